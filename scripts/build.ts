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
import { ENCRYPTED_FAILURES_PATH } from '../workers/codec/data-converter';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist'));
  fs.rmSync(out, { recursive: true, force: true });
  const started = performance.now();
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
  const compiled = performance.now();
  const logger = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };
  const workflowsPath = path.join(ROOT, 'workflows', 'index.ts');
  const { code } = await bundleWorkflowCode({ workflowsPath, logger });
  fs.writeFileSync(path.join(out, 'workflow-bundle.js'), code);
  // Workers that encrypt payloads (SLUICE_CODEC_KEYS) encode failure messages in the workflow code too.
  const encrypted = await bundleWorkflowCode({ workflowsPath, logger, failureConverterPath: ENCRYPTED_FAILURES_PATH });
  fs.writeFileSync(path.join(out, 'workflow-bundle-encrypted.js'), encrypted.code);
  console.log(`built ${path.relative(ROOT, out) || '.'}: compiled in ${((compiled - started) / 1000).toFixed(1)} s, workflow bundles (${(code.length / 2 ** 20).toFixed(1)} MiB each) in ${((performance.now() - compiled) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
