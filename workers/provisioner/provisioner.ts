import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { WorkerReport } from '../status-file';
import { readBacklog, type Backlog } from './backlog';
import { decide, type WorkerView } from './decide';
import { bookStopped, secondsToday, workerUsage } from './ledger';
import type { PoolPolicy, WorkersPolicy } from './policy';
import { isAlive, readState, startTicks, writeState, type ProvisionerState, type WorkerRecord } from './state';

/** A report older than this is stale: the worker is hung or gone, and is not taken as idle. */
const STALE_REPORT_MS = 15_000;

function readReport(file: string): WorkerReport | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as WorkerReport;
  } catch {
    return undefined;
  }
}

/**
 * Starts and stops worker processes from the backlog of their task queues, as `policy` says (`sluice workers`).
 * Its state file (pids, start times, busy and idle seconds, recent decisions) lets a restarted provisioner adopt
 * the workers a killed one started; a stopped worker is booked in the ledger.
 */
export class Provisioner {
  private state: ProvisionerState;
  private stopped = false;
  private wake?: () => void;

  constructor(
    private readonly client: Client,
    private readonly policy: WorkersPolicy,
    private readonly log: (line: string) => void = console.log,
    private readonly now: () => number = Date.now,
  ) {
    fs.mkdirSync(policy.stateDir, { recursive: true });
    this.state = readState(policy.stateDir);
    const owner = this.state.provisioner;
    if (owner && owner.pid !== process.pid && isAlive(owner.pid, owner.startTicks)) {
      throw new Error(`another provisioner (pid ${owner.pid}) runs on ${policy.stateDir}; stop it first, or give this one another state_dir`);
    }
    this.state.provisioner = { pid: process.pid, startTicks: startTicks(process.pid), since: this.now() };
    const known = new Set(policy.pools.map((p) => p.queue));
    for (const worker of this.state.workers) {
      if (!known.has(worker.queue)) this.log(`worker ${worker.id} (pid ${worker.pid}) serves ${worker.queue}, which the policy no longer names: it is stopped`);
    }
    const adopted = this.state.workers.filter((w) => isAlive(w.pid, w.startTicks));
    if (adopted.length > 0) this.log(`adopted ${adopted.length} running worker${adopted.length === 1 ? '' : 's'}: ${adopted.map((w) => `${w.queue} pid ${w.pid}`).join(', ')}`);
    writeState(policy.stateDir, this.state);
  }

  /** Runs until {@link stop}: one round every `poll_seconds`. A round that fails (Temporal unreachable) is logged and retried. */
  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.round();
      } catch (err) {
        this.log(`could not read the task queues: ${(err as Error).message}`);
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.policy.pollSeconds * 1000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.state.provisioner = undefined;
    writeState(this.policy.stateDir, this.state);
  }

  /** Ends {@link run} after its current round; the workers keep running, for the next provisioner to adopt. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** One look at every pool: count, reap, decide, start and stop. */
  async round(): Promise<void> {
    const backlogs = await Promise.all(this.policy.pools.map((pool) => readBacklog(this.client, pool.watch)));
    const now = this.now();
    // Each worker's report, read once per round: the busy/idle count and the decision see the same one.
    const reports = new Map(this.state.workers.map((w) => [w.id, readReport(w.statusFile)]));
    this.reap(now, reports);
    const usage = workerUsage(this.policy.stateDir, this.state.workers, 0, now);
    const known = new Set(this.policy.pools.map((p) => p.queue));
    for (const worker of this.state.workers) if (!known.has(worker.queue) && worker.stoppingSince === undefined) this.signal(worker, now);
    this.policy.pools.forEach((pool, i) => this.provision(pool, backlogs[i], secondsToday(usage, pool.queue, now), now, reports));
    writeState(this.policy.stateDir, this.state);
  }

  /** Counts busy and idle seconds, kills workers past their drain, and books the workers that are gone. */
  private reap(now: number, reports: Map<string, WorkerReport | undefined>): void {
    const alive: WorkerRecord[] = [];
    for (const worker of this.state.workers) {
      const report = reports.get(worker.id);
      const seconds = Math.max(0, (now - worker.countedAt) / 1000);
      if (report && report.running > 0 && now - report.at < STALE_REPORT_MS) worker.busySeconds += seconds;
      else worker.idleSeconds += seconds;
      worker.countedAt = now;
      const pool = this.policy.pools.find((p) => p.queue === worker.queue);
      if (!isAlive(worker.pid, worker.startTicks)) {
        const reason = worker.stoppingSince !== undefined ? 'scaled down' : 'exited on its own (see its log)';
        bookStopped(this.policy.stateDir, worker, now, reason);
        if (worker.stoppingSince === undefined) this.decided(worker.queue, `worker pid ${worker.pid} exited on its own; its log: ${worker.logFile}`, now);
        fs.rmSync(worker.statusFile, { force: true });
        continue;
      }
      if (worker.stoppingSince !== undefined && now - worker.stoppingSince > (pool?.drainSeconds ?? 30) * 1000 + 5_000) {
        this.decided(worker.queue, `worker pid ${worker.pid} did not drain in ${pool?.drainSeconds ?? 30}s: killed (its activities retry from their last heartbeat)`, now);
        try {
          process.kill(worker.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      alive.push(worker);
    }
    this.state.workers = alive;
  }

  private provision(pool: PoolPolicy, backlog: Backlog, usedSecondsToday: number, now: number, reports: Map<string, WorkerReport | undefined>): void {
    const queue = (this.state.queues[pool.queue] ??= { backlog: 0, backlogAgeSeconds: 0 });
    queue.backlog = backlog.count;
    queue.backlogAgeSeconds = backlog.ageSeconds;
    queue.readAt = now;
    const workers = this.state.workers.filter((w) => w.queue === pool.queue);
    const views = workers.map((w): WorkerView => {
      const report = reports.get(w.id);
      const fresh = report && now - report.at < STALE_REPORT_MS ? report : undefined;
      return { id: w.id, running: fresh?.running, idleSince: fresh?.idleSince, stopping: w.stoppingSince !== undefined };
    });
    const decision = decide(pool, { backlog: backlog.count, backlogAgeSeconds: backlog.ageSeconds, workers: views, lastScaleUp: queue.lastScaleUp, lastScaleDown: queue.lastScaleDown, usedSecondsToday }, now);
    if (decision.waiting !== queue.waiting) {
      if (decision.waiting) this.log(`${pool.queue}: ${decision.waiting}`);
      queue.waiting = decision.waiting;
    }
    if (decision.reason) this.decided(pool.queue, decision.reason, now);
    for (let i = 0; i < decision.start; i++) this.start(pool, now);
    if (decision.start > 0) queue.lastScaleUp = now;
    for (const id of decision.stop) {
      const worker = workers.find((w) => w.id === id);
      if (worker) this.signal(worker, now);
    }
    if (decision.stop.length > 0) queue.lastScaleDown = now;
  }

  private start(pool: PoolPolicy, now: number): void {
    const id = `${pool.queue}-${randomBytes(4).toString('hex')}`;
    const dir = path.join(this.policy.stateDir, 'workers');
    fs.mkdirSync(dir, { recursive: true });
    const logFile = path.join(dir, `${id}.log`);
    const statusFile = path.join(dir, `${id}.status.json`);
    const out = fs.openSync(logFile, 'a');
    // Detached, in a process group of its own: a provisioner killed, or a Ctrl-C at its terminal, leaves it working.
    const child = spawn(pool.command[0], pool.command.slice(1), {
      cwd: pool.cwd,
      env: { ...process.env, ...pool.env, SLUICE_WORKER_STATUS_FILE: statusFile, SLUICE_WORKER_DRAIN_SECONDS: String(Math.max(1, Math.round(pool.drainSeconds))) },
      detached: true,
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    child.on('error', (err) => this.log(`${pool.queue}: could not start ${pool.command[0]} (${err.message})`));
    child.unref();
    if (child.pid === undefined) return;
    this.state.workers.push({ id, queue: pool.queue, pid: child.pid, startTicks: startTicks(child.pid), startedAt: now, statusFile, logFile, busySeconds: 0, idleSeconds: 0, countedAt: now });
    this.log(`${pool.queue}: started worker pid ${child.pid} (log ${logFile})`);
  }

  /** Asks a worker to drain and stop (SIGTERM); it is booked once it is gone. */
  private signal(worker: WorkerRecord, now: number): void {
    worker.stoppingSince = now;
    try {
      process.kill(worker.pid, 'SIGTERM');
      this.log(`${worker.queue}: stopping worker pid ${worker.pid}`);
    } catch {
      // already gone: booked in the next round
    }
  }

  private decided(queue: string, text: string, now: number): void {
    this.state.decisions.push({ at: now, queue, text });
    this.log(text);
  }
}
