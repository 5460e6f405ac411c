import fs from 'node:fs';
import type { Worker } from '@temporalio/worker';

/** What a worker reports to the provisioner that started it, in the file SLUICE_WORKER_STATUS_FILE names. */
export interface WorkerReport {
  pid: number;
  /** Activities and workflow activations in flight. */
  running: number;
  /** Since when (epoch ms) nothing has been in flight; absent while something is. */
  idleSince?: number;
  /** When this report was written (epoch ms). */
  at: number;
}

/**
 * Writes the report of `workers` (one process's) to `file` every `everyMs` until the returned function is called: replaced whole
 * (written aside, then renamed), so a reader never sees half a report.
 */
export function reportStatus(workers: Array<Pick<Worker, 'getStatus'>>, file: string, everyMs = 1_000): () => void {
  let idleSince: number | undefined = Date.now();
  const write = () => {
    const running = workers.reduce((sum, w) => {
      const status = w.getStatus();
      return sum + status.numInFlightActivities + status.numInFlightWorkflowActivations;
    }, 0);
    const now = Date.now();
    if (running > 0) idleSince = undefined;
    else idleSince ??= now;
    const report: WorkerReport = { pid: process.pid, running, idleSince, at: now };
    try {
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(report));
      fs.renameSync(`${file}.tmp`, file);
    } catch {
      // The provisioner's folder is gone: it reads no more reports, and the worker works on.
    }
  };
  write();
  const timer = setInterval(write, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
