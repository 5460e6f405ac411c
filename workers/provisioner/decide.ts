import type { PoolPolicy } from './policy';

/** A worker as one decision sees it. */
export interface WorkerView {
  id: string;
  /** Running tasks, as the worker last reported; undefined until its first report (it is still starting). */
  running?: number;
  /** Since when it has run nothing (epoch ms), as it last reported. */
  idleSince?: number;
  /** Asked to stop already: draining. */
  stopping: boolean;
}

export interface PoolView {
  /** Tasks waiting on the pool's queues (workflow and activity tasks), and the age of the oldest in seconds. */
  backlog: number;
  backlogAgeSeconds: number;
  workers: WorkerView[];
  lastScaleUp?: number;
  lastScaleDown?: number;
  /** Worker-seconds the pool has used since the start of the UTC day. */
  usedSecondsToday: number;
}

export interface Decision {
  start: number;
  stop: string[];
  /** Why, in words an operator reads in `sluice workers status`; empty when nothing changes. */
  reason: string;
  /** Set when a backlog waits for a reason the policy gives (the daily budget), not for a cool-down. */
  waiting?: string;
}

/**
 * What the provisioner does with one pool now. It wants one worker per `target_backlog` waiting tasks, never
 * fewer than the workers that are running something, at least one while anything waits, within min and max.
 * It adds workers at once when the pool has none, else after the scale-up cool-down; it stops only workers that
 * have been idle for the idle timeout, one cool-down after the last scale-down, and never the last worker of a
 * pool with a backlog or a running task.
 */
export function decide(pool: PoolPolicy, view: PoolView, now: number): Decision {
  const live = view.workers.filter((w) => !w.stopping);
  const busy = live.filter((w) => w.running === undefined || w.running > 0).length;
  let wanted = Math.ceil(view.backlog / pool.targetBacklog);
  if (view.backlog > 0) wanted = Math.max(wanted, 1);
  wanted = Math.min(pool.max, Math.max(pool.min, wanted, busy));
  const since = (at: number | undefined) => (at === undefined ? Infinity : (now - at) / 1000);
  const backlogText = `backlog ${view.backlog}${view.backlog > 0 ? `, age ${Math.round(view.backlogAgeSeconds)}s` : ''}`;

  if (wanted > live.length) {
    if (pool.maxWorkerSecondsPerDay !== undefined && view.usedSecondsToday >= pool.maxWorkerSecondsPerDay) {
      return { start: 0, stop: [], reason: '', waiting: `${backlogText} waits: ${Math.round(view.usedSecondsToday)} of max_worker_seconds_per_day ${pool.maxWorkerSecondsPerDay} used` };
    }
    if (live.length > 0 && since(view.lastScaleUp) < pool.scaleUpCooldownSeconds) return { start: 0, stop: [], reason: '' };
    const start = wanted - live.length;
    return { start, stop: [], reason: `scaled ${pool.queue} ${live.length} → ${wanted}: ${live.length < pool.min ? `min ${pool.min}` : backlogText}` };
  }
  if (wanted < live.length && since(view.lastScaleDown) >= pool.scaleDownCooldownSeconds) {
    const idle = live
      .filter((w) => w.running === 0 && since(w.idleSince) >= pool.idleTimeoutSeconds)
      .sort((a, b) => (a.idleSince ?? 0) - (b.idleSince ?? 0))
      .slice(0, live.length - wanted);
    if (idle.length > 0) {
      const after = live.length - idle.length;
      return { start: 0, stop: idle.map((w) => w.id), reason: `scaled ${pool.queue} ${live.length} → ${after}: ${backlogText}, ${idle.length === 1 ? 'a worker' : `${idle.length} workers`} idle ≥ ${pool.idleTimeoutSeconds}s` };
    }
  }
  return { start: 0, stop: [], reason: '' };
}
