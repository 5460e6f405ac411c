import { budgetLines, checkBudget, durationSeconds } from './budget';
import { zeroCost } from './costs';

const spent = (cpuSeconds: number, rows: number) => ({ cost: { ...zeroCost(), cpuSeconds }, rows });

describe('budget', () => {
  it('reads spec durations', () => {
    expect([durationSeconds('500ms'), durationSeconds('90s'), durationSeconds('15m'), durationSeconds('2h'), durationSeconds('1d')]).toEqual([0.5, 90, 900, 7200, 86400]);
    expect(() => durationSeconds('soon')).toThrow('not a duration: soon');
  });

  it('lets a run go on within its budget and stops it, naming the limit and the next step, past it', () => {
    const budget = { max_cpu_seconds: 10, max_rows: 1000 };
    expect(() => checkBudget(budget, spent(10, 1000), 'train')).not.toThrow();
    expect(() => checkBudget(undefined, spent(1e9, 1e9), 'train')).not.toThrow();
    expect(() => checkBudget(budget, spent(10.5, 10), 'train')).toThrow('budget.max_cpu_seconds: the run has used 10.500 CPU seconds, over its budget of 10; stopped before train');
    expect(() => checkBudget(budget, spent(1, 1001), 'features')).toThrow('budget.max_rows: the run reads 1001 rows, over its budget of 1000; stopped before features');
  });

  it('reports what was spent against each limit set', () => {
    const budget = { max_cpu_seconds: 200, max_rows: 1000, max_training_time: '1m', max_attempts: 3 };
    expect(budgetLines(budget, spent(50, 250), 30)).toEqual([
      'cpu seconds 50.00 of 200 (25.0%)',
      'rows 250 of 1000 (25.0%)',
      'training seconds 30.00 of 60 (50.0%)',
      'attempts per step: at most 3',
    ]);
    expect(budgetLines(undefined, spent(1, 1))).toEqual([]);
  });
});
