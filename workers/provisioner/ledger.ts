import fs from 'node:fs';
import path from 'node:path';
import type { WorkerRecord } from './state';

/** One worker process the provisioner ran: its queue, its life, and its worker-seconds, busy and idle. */
export interface WorkerUsage {
  id: string;
  queue: string;
  pid: number;
  startedAt: number;
  /** Absent while it still runs. */
  stoppedAt?: number;
  /** Why it stopped: `scaled down`, `exited with 1`, `killed after the drain`, … */
  reason?: string;
  seconds: number;
  busySeconds: number;
  idleSeconds: number;
}

export const ledgerFile = (dir: string) => path.join(dir, 'ledger.jsonl');

/** Books a stopped worker: one JSON line, appended. */
export function bookStopped(dir: string, worker: WorkerRecord, stoppedAt: number, reason: string): WorkerUsage {
  const usage: WorkerUsage = { id: worker.id, queue: worker.queue, pid: worker.pid, startedAt: worker.startedAt, stoppedAt, reason, seconds: (stoppedAt - worker.startedAt) / 1000, busySeconds: worker.busySeconds, idleSeconds: worker.idleSeconds };
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(ledgerFile(dir), `${JSON.stringify(usage)}\n`);
  return usage;
}

/** The workers booked in `dir`'s ledger, then those still running (from the state file), that ran after `since`. */
export function workerUsage(dir: string, running: WorkerRecord[], since = 0, now = Date.now()): WorkerUsage[] {
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(ledgerFile(dir), 'utf8').split('\n').filter((l) => l.trim() !== '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const booked = lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as WorkerUsage];
    } catch {
      return []; // a line cut short by a kill mid-append
    }
  });
  const open = running.map((w): WorkerUsage => ({ id: w.id, queue: w.queue, pid: w.pid, startedAt: w.startedAt, seconds: (now - w.startedAt) / 1000, busySeconds: w.busySeconds, idleSeconds: w.idleSeconds }));
  return [...booked, ...open].filter((u) => (u.stoppedAt ?? now) >= since);
}

/** Worker-seconds of `queue` since the start of the UTC day of `now`: booked and running workers, the part of each within the day. */
export function secondsToday(usage: WorkerUsage[], queue: string, now: number): number {
  const day = new Date(now);
  const midnight = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
  return usage.filter((u) => u.queue === queue).reduce((sum, u) => sum + Math.max(0, (u.stoppedAt ?? now) - Math.max(u.startedAt, midnight)) / 1000, 0);
}
