import { ApplicationFailure } from '@temporalio/common';
import { checkSchema } from './inference-source';
import { groupDays } from './plan';

describe('groupDays', () => {
  const days = [
    { day: '2001-06-01', rows: 10 },
    { day: '2001-06-02', rows: 15 },
    { day: '2001-06-03', rows: 40 },
    { day: '2001-06-04', rows: 5 },
    { day: '2001-06-05', rows: 5 },
  ];

  it('splits consecutive days, in order, into ceil(rows / limit) groups of about equal size', () => {
    expect(groupDays(days, 25).map((s) => [s.index, s.days.map((d) => d.day.slice(-2)).join(','), s.rows])).toEqual([
      [0, '01,02', 25],
      [1, '03', 40], // bigger than the limit: a group of its own
      [2, '04,05', 10],
    ]);
  });

  it('leaves no small remainder group', () => {
    const month = Array.from({ length: 30 }, (_, i) => ({ day: `2001-06-${String(i + 1).padStart(2, '0')}`, rows: 100 }));
    expect(groupDays(month, 1000).map((s) => s.rows)).toEqual([1000, 1000, 1000]);
    expect(groupDays(month, 1400).map((s) => s.rows)).toEqual([1000, 1000, 1000]);
  });

  it('makes as many groups as run at once, or a multiple, so parallel waves are full', () => {
    const month = Array.from({ length: 30 }, (_, i) => ({ day: `2001-06-${String(i + 1).padStart(2, '0')}`, rows: 100 }));
    expect(groupDays(month, 1000, 2).map((s) => s.rows)).toEqual([700, 800, 700, 800]); // 3 needed → 4 of 7 or 8 days
    expect(groupDays(month, 1500, 2).map((s) => s.rows)).toEqual([1500, 1500]);
    expect(groupDays(month, 5000, 4).map((s) => s.rows)).toEqual([3000]); // one shard is enough: not split
    expect(groupDays(month, 700, 3)).toHaveLength(6); // 5 needed → 6
  });

  it('loses no day and no row whatever the limit', () => {
    for (const [limit, parallel] of [[1, 1], [7, 2], [30, 3], [1000, 4]]) {
      const shards = groupDays(days, limit, parallel);
      expect(shards.flatMap((s) => s.days)).toEqual(days);
      expect(shards.reduce((n, s) => n + s.rows, 0)).toBe(75);
    }
  });
});

describe('checkSchema', () => {
  const trained = [
    { name: 'hour_of_day', type: 'DOUBLE' },
    { name: 'log_distance', type: 'DOUBLE' },
  ];

  it('accepts the same columns, in any order and with extra ones', () => {
    expect(() => checkSchema(trained, [{ name: 'x', type: 'VARCHAR' }, ...trained.slice().reverse()], 'partition 2001-06-30', 'flights v1')).not.toThrow();
  });

  it('names every missing column and every changed type', () => {
    let failure: unknown;
    try {
      checkSchema(trained, [{ name: 'hour_of_day', type: 'BIGINT' }], 'partition 2001-06-30', 'flights v1');
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('SluiceDataError');
    expect((failure as ApplicationFailure).message).toBe(
      'schema drift in partition 2001-06-30: `hour_of_day` is BIGINT, the model was trained on DOUBLE; `log_distance` is missing (input schema of flights v1); nothing was published',
    );
  });
});
