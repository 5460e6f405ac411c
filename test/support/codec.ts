import { execFile } from 'node:child_process';
import { temporalCliPath } from '../../scripts/dev-server';
import { parseCodecKeys } from '../../workers/codec/codec-keys';

/**
 * Keys of the encryption tests, fixed so that the histories they record replay (test/replay.test.ts). Test keys
 * only: they encrypt nothing but test runs.
 */
export const TEST_KEY_1 = 'k-test-1=8nq1m0bq3pHkBqZ4YbO5e2ZqN6hR3S0rXv6yJ1cW9Ak=';
export const TEST_KEY_2 = 'k-test-2=Q3d0b0l1Zk5mV2xYcUt3cDBVc0R4QmZ0S2hNbXZ6cFE=';
export const testKeys = (list: string) => parseCodecKeys(list, 'SLUICE_CODEC_KEYS');

/**
 * `temporal workflow show` of a run on the suite's server, as JSON text; with `codec`, through a codec server.
 * Asynchronous: the codec server runs in the test's own process, which must keep serving while the CLI waits.
 */
export function showHistory(workflowId: string, codec?: { endpoint: string; auth: string }): Promise<string> {
  const args = ['workflow', 'show', '--address', process.env.SLUICE_TEST_ADDRESS as string, '-w', workflowId, '--output', 'json'];
  if (codec) args.push('--codec-endpoint', codec.endpoint, '--codec-auth', codec.auth);
  return new Promise((resolve, reject) => {
    execFile(temporalCliPath(), args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`temporal workflow show failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Every payload of a shown history, with where it sits and its data decoded to text. */
export function payloadsOf(history: string): { at: string; encoding: string; keyId?: string; text: string }[] {
  const found: { at: string; encoding: string; keyId?: string; text: string }[] = [];
  const unbase = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString() : '');
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}[${i}]`));
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      const metadata = o.metadata as Record<string, unknown> | undefined;
      if (metadata && typeof metadata.encoding === 'string') {
        found.push({ at, encoding: unbase(metadata.encoding), keyId: metadata['encryption-key-id'] === undefined ? undefined : unbase(metadata['encryption-key-id']), text: unbase(o.data) });
      } else for (const [k, v] of Object.entries(o)) walk(v, at ? `${at}.${k}` : k);
    }
  };
  walk(JSON.parse(history), '');
  return found;
}
