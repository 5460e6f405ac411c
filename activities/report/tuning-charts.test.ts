import { paramsChart, renderSvg, trialsChart } from './charts';

/** The search's two report charts: metric by trial with the best so far, and each parameter against the metric. */
const trials = [
  { number: 1, state: 'complete', value: 0.71, params: { leaves: 31, learning_rate: 0.1 } },
  { number: 2, state: 'pruned', params: { leaves: 255, learning_rate: 0.02 } },
  { number: 3, state: 'complete', value: 0.74, params: { leaves: 127, learning_rate: 0.05 } },
  { number: 4, state: 'complete', value: 0.73, params: { leaves: 63, learning_rate: 0.2 } },
  { number: 5, state: 'failed', params: { leaves: 15, learning_rate: 0.3 } },
];

describe('the tuning charts of the run report', () => {
  it('draws each complete trial and the best so far, which never falls', async () => {
    const spec = trialsChart(trials, 'AUC', true);
    const rows = (spec.data as { values: Array<{ trial: number; value?: number; best?: number }> }).values;
    expect(rows.map((r) => r.best)).toEqual([0.71, 0.71, 0.74, 0.74, 0.74]);
    expect(rows.map((r) => r.value)).toEqual([0.71, undefined, 0.74, 0.73, undefined]);
    // For log loss lower is better.
    const losses = trialsChart(trials.map((t) => ({ ...t, value: t.value === undefined ? undefined : 1 - t.value })), 'log loss', false);
    expect((losses.data as { values: Array<{ best?: number }> }).values.map((r) => r.best?.toFixed(2))).toEqual(['0.29', '0.29', '0.26', '0.26', '0.26']);
    const svg = await renderSvg(spec);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('Holdout AUC by trial');
    expect((svg.match(/<path[^>]*role="graphics-symbol"/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });

  it('draws one small chart per parameter, from the complete trials only', async () => {
    const spec = paramsChart(trials, 'AUC');
    const rows = (spec.data as { values: Array<{ param: string; setting: number }> }).values;
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => r.param))).toEqual(new Set(['leaves', 'learning_rate']));
    const svg = await renderSvg(spec);
    expect(svg).toContain('leaves');
    expect(svg).toContain('learning_rate');
  });
});
