import { run } from '../../scripts/sluice-cli';
import type { TestHarness } from './temporal';

/** Runs one `sluice` command line against the test's server and queue; its exit code and printed lines (progress views left out). */
export async function sluiceIn(h: TestHarness, argv: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await run(argv, h.client, (line) => lines.push(line), h.config, () => undefined);
  return { code, output: lines.join('\n') };
}
