import { METRIC_NAMES, metricOf, PRIMARY_METRIC, TASK_METRICS, TASKS } from './tasks';

describe('tasks and their metrics', () => {
  it('every metric a spec may gate is reported by some task, and every task compares on one it reports', () => {
    for (const name of METRIC_NAMES) expect(TASKS.filter((t) => metricOf(t, name))).not.toHaveLength(0);
    for (const task of TASKS) expect(metricOf(task, PRIMARY_METRIC[task])).toBeDefined();
  });

  it('a metric shared by two tasks is better the same way in both', () => {
    for (const name of METRIC_NAMES) expect(new Set(TASKS.flatMap((t) => TASK_METRICS[t].filter((m) => m.name === name).map((m) => m.better))).size).toBe(1);
  });
});
