import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { trainPipeline } from '../workflows/train-pipeline';
import { smallFlightsSpec } from './support/specs';
import { harness, type TestHarness } from './support/temporal';

/**
 * The Temporal Web UI of the test server in a real browser (Debian's Chromium driven by playwright-core):
 * find a completed pipeline run by its search attributes, open it, see its steps named by their summaries,
 * and keep a screenshot.
 */
const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(__dirname, '..', 'test-output', 'web-ui');
let h: TestHarness;
let browser: Browser;

beforeAll(async () => {
  h = await harness('webui');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('the Temporal Web UI', () => {
  it('finds a completed training run by its Sluice search attributes and shows it', async () => {
    const spec = smallFlightsSpec('webui');
    const workflowId = `webui-train-${process.pid}`;
    const result = await h.withWorker(() => h.client.workflow.execute(trainPipeline, { args: [{ spec }], taskQueue: h.config.taskQueue, workflowId }));
    expect(result.promoted).toBe(true);
    const ui = process.env.SLUICE_TEST_UI as string;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const query = `SluicePipeline="webui" AND SluiceStatus="promoted" AND SluiceModelVersion=${result.modelVersion}`;
    // The run reaches the visibility store a moment after it closes: reload the filtered list until it shows.
    const link = page.locator(`a[href*="/workflows/${workflowId}/"]`).first();
    for (let attempt = 0; attempt < 30 && !(await link.isVisible()); attempt++) {
      await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent(query)}`, { waitUntil: 'networkidle' });
      if (!(await link.isVisible())) await page.waitForTimeout(500);
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, 'runs-filtered-by-search-attributes.png') });
    await link.click();
    await page.waitForURL(new RegExp(`/workflows/${workflowId}/`));
    await page.getByText('Completed').first().waitFor();
    await page.getByText(workflowId).first().waitFor();
    const shot = path.join(SCREENSHOTS, 'completed-training-run.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(fs.statSync(shot).size).toBeGreaterThan(20_000);
    expect(fs.readFileSync(shot).subarray(1, 4).toString('ascii')).toBe('PNG');
    // The run page shows its input: the pipeline spec it ran.
    // The input block renders after the page's first paint: wait for it rather than reading the page once.
    await page.waitForFunction(`document.documentElement.innerHTML.includes(${JSON.stringify(path.basename(spec))})`, undefined, { timeout: 30_000 });
    expect(await page.content()).toContain(path.basename(spec));
    // The event history names the steps with the summaries the workflow gave its activities, not bare activity types.
    await page.getByText(/features from [\d,]+ extracted rows/).first().waitFor({ state: 'attached' });
    const html = await page.content();
    expect(html).toMatch(/features from [\d,]+ extracted rows/);
    expect(html).toMatch(/train logistic_regression: [\d,]+ rows × 18 features/);
    await page.close();
  });
});
