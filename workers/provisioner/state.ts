import fs from 'node:fs';
import path from 'node:path';

/** A worker process the provisioner started, as its state file keeps it (so a restarted provisioner adopts it). */
export interface WorkerRecord {
  id: string;
  queue: string;
  pid: number;
  /** The process's start time as the kernel counts it (Linux: /proc/<pid>/stat field 22): a reused pid is another process. */
  startTicks?: string;
  startedAt: number;
  /** Where the worker writes its report and its output. */
  statusFile: string;
  logFile: string;
  /** When it was asked to stop (SIGTERM), if it has been. */
  stoppingSince?: number;
  busySeconds: number;
  idleSeconds: number;
  /** When busy and idle seconds were last counted. */
  countedAt: number;
}

/** One line of `sluice workers status`'s recent decisions. */
export interface DecisionRecord {
  at: number;
  queue: string;
  text: string;
}

export interface QueueRecord {
  backlog: number;
  backlogAgeSeconds: number;
  lastScaleUp?: number;
  lastScaleDown?: number;
  /** Why a backlog waits, when it waits for the policy's budget. */
  waiting?: string;
  readAt?: number;
}

export interface ProvisionerState {
  /** The provisioner process that owns the folder (one at a time). */
  provisioner?: { pid: number; startTicks?: string; since: number };
  workers: WorkerRecord[];
  queues: Record<string, QueueRecord>;
  decisions: DecisionRecord[];
}

/** Decisions kept for `sluice workers status`. */
const DECISIONS_KEPT = 20;

export const stateFile = (dir: string) => path.join(dir, 'state.json');

export function readState(dir: string): ProvisionerState {
  try {
    const state = JSON.parse(fs.readFileSync(stateFile(dir), 'utf8')) as ProvisionerState;
    return { workers: state.workers ?? [], queues: state.queues ?? {}, decisions: state.decisions ?? [], provisioner: state.provisioner };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { workers: [], queues: {}, decisions: [] };
    throw new Error(`${stateFile(dir)}: unreadable (${(err as Error).message}); move it away to start afresh (its workers are then not adopted)`);
  }
}

/** Replaces the state file whole (written aside, then renamed): a provisioner killed mid-write leaves the last good one. */
export function writeState(dir: string, state: ProvisionerState): void {
  fs.mkdirSync(dir, { recursive: true });
  state.decisions = state.decisions.slice(-DECISIONS_KEPT);
  const file = stateFile(dir);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 1));
  fs.renameSync(`${file}.tmp`, file);
}

/** The kernel's start time of `pid`, or undefined where there is no /proc (then a live pid is taken as the same process). */
export function startTicks(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses and may hold spaces): state is field 3, starttime 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and, where the start time was recorded, is still the process that was started. */
export function isAlive(pid: number, ticks: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTicks(pid);
  if (ticks !== undefined && now !== undefined && now !== ticks) return false;
  // A zombie (exited, not yet reaped) is not alive.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}
