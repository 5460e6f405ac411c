import { decide, type PoolView, type WorkerView } from './decide';
import { parsePolicy } from './policy';

const pool = parsePolicy({ queues: { q: { min: 0, max: 3, target_backlog: 2, scale_up_cooldown_seconds: 10, scale_down_cooldown_seconds: 30, idle_timeout_seconds: 60, max_worker_seconds_per_day: 1000 } } }, '/').pools[0];
const NOW = 1_000_000_000;
const idle = (id: string, idleForSeconds: number): WorkerView => ({ id, running: 0, idleSince: NOW - idleForSeconds * 1000, stopping: false });
const busy = (id: string): WorkerView => ({ id, running: 1, stopping: false });
const view = (v: Partial<PoolView>): PoolView => ({ backlog: 0, backlogAgeSeconds: 0, workers: [], usedSecondsToday: 0, ...v });

describe('provisioning decisions', () => {
  test('from zero workers, a backlog starts one at once, whatever the cool-down', () => {
    expect(decide(pool, view({ backlog: 1, backlogAgeSeconds: 3, lastScaleUp: NOW - 1000 }), NOW)).toEqual({ start: 1, stop: [], reason: 'scaled q 0 → 1: backlog 1, age 3s' });
  });

  test('one worker per target backlog, up to max, after the scale-up cool-down', () => {
    expect(decide(pool, view({ backlog: 5, workers: [busy('a')], lastScaleUp: NOW - 11_000 }), NOW).start).toBe(2);
    expect(decide(pool, view({ backlog: 50, workers: [busy('a')], lastScaleUp: NOW - 11_000 }), NOW).start).toBe(2);
    expect(decide(pool, view({ backlog: 5, workers: [busy('a')], lastScaleUp: NOW - 5_000 }), NOW).start).toBe(0);
  });

  test('only workers idle for the idle timeout stop, the longest idle first, after the scale-down cool-down', () => {
    const workers = [idle('a', 61), idle('b', 120), idle('c', 10)];
    expect(decide(pool, view({ workers }), NOW)).toMatchObject({ start: 0, stop: ['b', 'a'] });
    expect(decide(pool, view({ workers, lastScaleDown: NOW - 10_000 }), NOW).stop).toEqual([]);
  });

  test('never the last worker of a queue with a backlog, nor a worker that runs something', () => {
    expect(decide(pool, view({ backlog: 1, workers: [idle('a', 600)] }), NOW).stop).toEqual([]);
    expect(decide(pool, view({ workers: [busy('a'), idle('b', 600)] }), NOW).stop).toEqual(['b']);
    // a worker that has not reported yet is starting: not stopped
    expect(decide(pool, view({ workers: [{ id: 'a', stopping: false }] }), NOW).stop).toEqual([]);
  });

  test('min workers are kept, and started without a backlog', () => {
    const kept = { ...pool, min: 1 };
    expect(decide(kept, view({}), NOW)).toMatchObject({ start: 1, reason: 'scaled q 0 → 1: min 1' });
    expect(decide(kept, view({ workers: [idle('a', 600)] }), NOW).stop).toEqual([]);
  });

  test('a backlog past the daily worker-seconds waits, and says why', () => {
    const decision = decide(pool, view({ backlog: 4, backlogAgeSeconds: 42, usedSecondsToday: 1000 }), NOW);
    expect(decision).toEqual({ start: 0, stop: [], reason: '', waiting: 'backlog 4, age 42s waits: 1000 of max_worker_seconds_per_day 1000 used' });
  });
});
