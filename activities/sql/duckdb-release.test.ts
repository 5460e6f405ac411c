import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Sluice's DuckDB engine is the one npm's `@duckdb/node-api` embeds (1.5.x). DuckDB 2.0 is on PyPI and Maven Central, and
 * the batch-inference bench's Python peer runs 1.5–1.8× faster on it than on 1.5 (docs/benchmarks.md). This test fails the day npm publishes a 2.x `@duckdb/node-api`, so the upgrade is not missed: pin it in
 * package.json (with `@duckdb/node-bindings`), run the suite, and update this test's pin.
 */
const PACKAGE = '@duckdb/node-api';

function major(version: string): number {
  return Number(version.split('.')[0]);
}

test(`${PACKAGE}: the pinned engine is the newest major npm publishes`, () => {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const pinned = manifest.dependencies[PACKAGE];
  expect(pinned).toMatch(/^\d+\.\d+\.\d+/);
  // The registry's answer, not a cache: a version published since the last install must show.
  const published = JSON.parse(execFileSync('npm', ['view', PACKAGE, 'versions', '--json', '--prefer-online'], { encoding: 'utf8', timeout: 60_000 })) as string[];
  expect(published).toContain(pinned);
  const newer = published.filter((v) => major(v) > major(pinned));
  if (newer.length > 0) {
    throw new Error(`npm now publishes ${PACKAGE} ${newer.join(', ')}: pin the newest (and @duckdb/node-bindings) in package.json, run npm test, and move this test's pin`);
  }
});
