import { renderSvg } from './charts';
import { scoresChart } from './scores-report';

const day = (d: string, unseen?: Record<string, number>) => ({ day: d, rows: 100, meanScore: 0.2, bins: [10, 20, 30, 20, 10, 5, 3, 1, 1, 0], ...(unseen ? { unseen } : {}) });
const input = { pipeline: 'flights', workflowId: 'w', runId: 'r', modelVersion: 3 };

describe('the scores-per-day chart of a batch-inference run', () => {
  it('adds a panel of the rows whose category training never saw, per day and feature, only when there were some', async () => {
    const plain = scoresChart({ ...input, days: [day('2001-06-29'), day('2001-06-30')] });
    expect(JSON.stringify(plain)).not.toContain('category never seen');
    const spec = scoresChart({ ...input, days: [day('2001-06-29', { origin_airport: 7, destination_airport: 2 }), day('2001-06-30'), day('2001-07-01', { origin_airport: 4 })] });
    const panel = (spec as { vconcat: Array<{ data?: { values: Array<{ day: string; feature: string; rows: number }> } }> }).vconcat.at(-1);
    expect(panel?.data?.values).toEqual([
      { day: '2001-06-29', feature: 'origin_airport', rows: 7 },
      { day: '2001-06-29', feature: 'destination_airport', rows: 2 },
      { day: '2001-07-01', feature: 'origin_airport', rows: 4 },
    ]);
    const svg = await renderSvg(spec);
    for (const text of ['Rows, category never seen in training', 'Categorical feature', 'origin_airport', 'destination_airport']) expect(svg).toContain(`>${text}</text>`);
  });
});
