import type { CalibrationBin } from '../metrics';
import { Canvas, type Rgb } from './canvas';

export const COLORS = { candidate: [31, 119, 180], champion: [255, 127, 14], reference: [150, 150, 150], axis: [40, 40, 40], grid: [225, 225, 225], bar: [200, 215, 235] } satisfies Record<string, Rgb>;
const STEP_COLORS: Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
];

const W = 480;
const H = 360;
const M = { left: 56, right: 16, top: 16, bottom: 40 };

/** A chart area with data ranges on both axes, grid lines and tick labels. */
class Plot {
  readonly canvas = new Canvas(W, H);

  constructor(
    private readonly x: [number, number],
    private readonly y: [number, number],
    xTicks: number[],
    yTicks: number[],
    format: (v: number) => string = (v) => String(Number(v.toFixed(2))),
  ) {
    for (const t of xTicks) {
      this.canvas.line(this.px(t), M.top, this.px(t), H - M.bottom, COLORS.grid);
      const label = format(t);
      this.canvas.text(this.px(t) - Canvas.textWidth(label) / 2, H - M.bottom + 8, label, COLORS.axis);
    }
    for (const t of yTicks) {
      this.canvas.line(M.left, this.py(t), W - M.right, this.py(t), COLORS.grid);
      const label = format(t);
      this.canvas.text(M.left - 6 - Canvas.textWidth(label), this.py(t) - 5, label, COLORS.axis);
    }
    this.canvas.line(M.left, H - M.bottom, W - M.right, H - M.bottom, COLORS.axis, 2);
    this.canvas.line(M.left, M.top, M.left, H - M.bottom, COLORS.axis, 2);
  }

  px(v: number): number {
    return M.left + ((v - this.x[0]) / (this.x[1] - this.x[0])) * (W - M.left - M.right);
  }

  py(v: number): number {
    return H - M.bottom - ((v - this.y[0]) / (this.y[1] - this.y[0])) * (H - M.top - M.bottom);
  }

  curve(points: Array<[number, number]>, color: Rgb, thickness = 2): void {
    this.canvas.polyline(
      points.map(([a, b]) => [this.px(a), this.py(b)]),
      color,
      thickness,
    );
  }
}

const unitTicks = [0, 0.25, 0.5, 0.75, 1];

/** ROC curves (false positive rate → true positive rate) of the candidate and, when given, the champion. */
export function rocChart(candidate: Array<[number, number]>, champion?: Array<[number, number]>): Buffer {
  const plot = new Plot([0, 1], [0, 1], unitTicks, unitTicks);
  plot.canvas.line(plot.px(0), plot.py(0), plot.px(1), plot.py(1), COLORS.reference, 1, 6);
  if (champion) plot.curve(champion, COLORS.champion);
  plot.curve(candidate, COLORS.candidate, 3);
  return plot.canvas.png();
}

/** Observed positive rate against mean predicted probability per bin; bar heights show how many rows each bin holds. */
export function calibrationChart(bins: CalibrationBin[]): Buffer {
  const plot = new Plot([0, 1], [0, 1], unitTicks, unitTicks);
  const most = Math.max(1, ...bins.map((b) => b.count));
  for (const b of bins) {
    const height = (b.count / most) * 0.25;
    plot.canvas.rect(plot.px(b.lower) + 2, plot.py(height), plot.px(b.upper) - plot.px(b.lower) - 4, plot.py(0) - plot.py(height), COLORS.bar);
  }
  plot.canvas.line(plot.px(0), plot.py(0), plot.px(1), plot.py(1), COLORS.reference, 1, 6);
  const filled = bins.filter((b) => b.count > 0);
  plot.curve(filled.map((b) => [b.meanPredicted, b.observedRate]), COLORS.candidate);
  for (const b of filled) plot.canvas.dot(plot.px(b.meanPredicted), plot.py(b.observedRate), 4, COLORS.candidate);
  return plot.canvas.png();
}

/** Grouped bars, one group per metric (values in 0..1): candidate, and the champion beside it when there is one. */
export function metricsChart(candidate: number[], champion?: number[]): Buffer {
  const plot = new Plot([0, candidate.length], [0, 1], [], unitTicks);
  const width = champion ? 0.35 : 0.6;
  candidate.forEach((value, i) => {
    const x = i + (champion ? 0.13 : 0.2);
    plot.canvas.rect(plot.px(x), plot.py(value), plot.px(x + width) - plot.px(x), plot.py(0) - plot.py(value), COLORS.candidate);
    if (champion) plot.canvas.rect(plot.px(x + width + 0.04), plot.py(champion[i]), plot.px(x + 2 * width + 0.04) - plot.px(x + width + 0.04), plot.py(0) - plot.py(champion[i]), COLORS.champion);
  });
  return plot.canvas.png();
}

/** One bar per step from its start to its end, in seconds since the run started; the colour of step i is {@link stepColor}(i). */
export function timelineChart(steps: Array<{ start: number; end: number }>): Buffer {
  const span = Math.max(1, ...steps.map((s) => s.end));
  const ticks = niceTicks(span);
  const plot = new Plot([0, ticks[ticks.length - 1]], [steps.length, 0], ticks, [], (v) => `${Number(v.toFixed(1))}s`);
  steps.forEach((s, i) => {
    const x0 = plot.px(s.start);
    const x1 = Math.max(x0 + 3, plot.px(s.end));
    plot.canvas.rect(x0, plot.py(i + 0.15), x1 - x0, plot.py(i + 0.85) - plot.py(i + 0.15), stepColor(i));
  });
  return plot.canvas.png();
}

export function stepColor(i: number): Rgb {
  return STEP_COLORS[i % STEP_COLORS.length];
}

/** About five round tick values from 0 to at least `max`. */
function niceTicks(max: number): number[] {
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) as number;
  const ticks: number[] = [];
  for (let t = 0; t < max + step; t += step) ticks.push(Number(t.toFixed(6)));
  return ticks;
}
