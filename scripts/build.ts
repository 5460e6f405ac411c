/**
 * Builds what production workers run: the TypeScript compiled to JavaScript (`tsc -p tsconfig.build.json`)
 * and the workflow bundle built ahead of time (`workflow-bundle.js` at the top of the output), so a worker
 * starts without tsx and without bundling.
 *   npm run build [-- <out dir>]      # default dist/; then: node dist/workers/main.js
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist'));
  fs.rmSync(out, { recursive: true, force: true });
  const started = performance.now();
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
  const compiled = performance.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(ROOT, 'workflows', 'index.ts'), logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } });
  fs.writeFileSync(path.join(out, 'workflow-bundle.js'), code);
  console.log(`built ${path.relative(ROOT, out) || '.'}: compiled in ${((compiled - started) / 1000).toFixed(1)} s, workflow bundle (${(code.length / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - compiled) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
