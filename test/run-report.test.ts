import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { trainPipeline } from '../workflows/train-pipeline';
import { smallFlightsSpec } from './support/specs';
import { harness, TEST_ARTIFACTS, type TestHarness } from './support/temporal';

let h: TestHarness;

beforeAll(async () => {
  h = await harness('report');
});
afterAll(async () => {
  await h?.close();
});

/** Width, height and RGB pixels of a PNG written by the report (8-bit RGB, filter 0 on every row), checking each chunk's CRC. */
function decodePng(file: string): { width: number; height: number; pixels: Buffer } {
  const bytes = fs.readFileSync(file);
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let at = 8;
  let width = 0;
  let height = 0;
  const data: Buffer[] = [];
  while (at < bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('ascii', at + 4, at + 8);
    const body = bytes.subarray(at + 8, at + 8 + length);
    expect(bytes.readUInt32BE(at + 8 + length)).toBe(zlib.crc32(bytes.subarray(at + 4, at + 8 + length)));
    if (type === 'IHDR') [width, height] = [body.readUInt32BE(0), body.readUInt32BE(4)];
    if (type === 'IDAT') data.push(body);
    at += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(data));
  const pixels = Buffer.concat(Array.from({ length: height }, (_, y) => raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1))));
  return { width, height, pixels };
}

/** How many pixels have exactly this colour. */
function countColor(pixels: Buffer, [r, g, b]: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < pixels.length; i += 3) if (pixels[i] === r && pixels[i + 1] === g && pixels[i + 2] === b) n++;
  return n;
}

const BLUE = [31, 119, 180];
const ORANGE = [255, 127, 14];

describe('the run report', () => {
  it('writes report.html with ROC, calibration, metrics-vs-champion and timeline charts for each training run', async () => {
    const first = smallFlightsSpec('report');
    const second = smallFlightsSpec('report', (s) => (s.trainer = { type: 'logistic_regression', l2: 0.05, max_iterations: 30, tolerance: 1e-6, patience: 2 }));
    const [v1, v2] = await h.withWorker(async () => [
      await h.client.workflow.execute(trainPipeline, { args: [{ spec: first }], taskQueue: h.config.taskQueue, workflowId: `report-1-${process.pid}` }),
      await h.client.workflow.execute(trainPipeline, { args: [{ spec: second }], taskQueue: h.config.taskQueue, workflowId: `report-2-${process.pid}` }),
    ]);
    for (const result of [v1, v2]) {
      if (!result.report || 'error' in result.report) throw new Error(`no report: ${JSON.stringify(result.report)}`);
      expect(result.report.file.startsWith(TEST_ARTIFACTS)).toBe(true);
      expect(result.ledger?.entries.at(-1)?.step).toBe('report');
    }
    const report = v2.report as { file: string };
    const dir = path.dirname(report.file);
    const html = fs.readFileSync(report.file, 'utf8');
    for (const chart of ['roc.png', 'calibration.png', 'metrics.png', 'timeline.png']) {
      expect(html).toContain(`src="${chart}"`);
      const { width, height, pixels } = decodePng(path.join(dir, chart));
      expect([width, height]).toEqual([480, 360]);
      const white = countColor(pixels, [255, 255, 255]);
      expect(white).toBeLessThan(width * height * 0.97); // something is drawn
      expect(countColor(pixels, BLUE)).toBeGreaterThan(200); // the candidate's curve, points or bars (or the first step)
    }
    // The second run has a champion (v1) with another model: its ROC curve and bars are drawn beside the candidate's.
    expect(countColor(decodePng(path.join(dir, 'roc.png')).pixels, ORANGE)).toBeGreaterThan(200);
    expect(countColor(decodePng(path.join(dir, 'metrics.png')).pixels, ORANGE)).toBeGreaterThan(1000);
    expect(html).toContain(`<td>AUC</td><td>${v2.metrics.auc.toFixed(4)}</td><td>${v2.champion?.metrics.auc.toFixed(4)}</td>`);
    expect(html).toContain(v2.decision.outcome);
    for (const step of ['extract', 'features', 'train', 'evaluate', 'evaluate-champion']) expect(html).toContain(`</span>${step}</td>`);
    // The first run had no champion: no orange in its ROC chart.
    expect(countColor(decodePng(path.join(path.dirname((v1.report as { file: string }).file), 'roc.png')).pixels, ORANGE)).toBe(0);
  });
});
