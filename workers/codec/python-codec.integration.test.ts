import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { parseCodecKeys } from './codec-keys';
import { EncryptionCodec } from './encryption-codec';

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
const Payloads = temporal.api.common.v1.Payloads;

/** The Python worker's codec (sluice_python/codec.py) on `payloads`, in a real Python process. */
function python(op: 'encode' | 'decode', keys: string, payloads: Payload[]): Payload[] {
  const script = `
import asyncio, json, sys
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from sluice_python.codec import EncryptionCodec, codec_keys_from
codec = EncryptionCodec(codec_keys_from())
given = json_format.Parse(sys.stdin.read(), Payloads())
out = asyncio.run(getattr(codec, sys.argv[1])(list(given.payloads)))
print(json_format.MessageToJson(Payloads(payloads=out)))
`;
  const input = JSON.stringify(Payloads.toObject(Payloads.create({ payloads }), { bytes: String }));
  const run = spawnSync(PYTHON, ['-c', script, op], { cwd: path.join(ROOT, 'workers', 'python'), input, encoding: 'utf8', env: { ...process.env, SLUICE_CODEC_KEYS: keys } });
  if (run.status !== 0) throw new Error(run.stderr);
  return Payloads.fromObject(JSON.parse(run.stdout) as Record<string, unknown>).payloads;
}

describe('one encryption format in TypeScript and Python', () => {
  const k1 = `k1=${crypto.randomBytes(32).toString('base64')}`;
  const k2 = `k2=${crypto.randomBytes(32).toString('base64')}`;
  const value = { request: { featureSet: 'artifact:features/3f1c', window: { from: '2001-01-01', to: '2001-01-21' } }, metrics: { auc: 0.7123 } };

  it('Python decrypts what the TypeScript workers encrypted, under the current and an older key', async () => {
    const sealedByTs = [...(await new EncryptionCodec(parseCodecKeys(k1, 'k')).encode([defaultPayloadConverter.toPayload(value)])), ...(await new EncryptionCodec(parseCodecKeys(`${k2},${k1}`, 'k')).encode([defaultPayloadConverter.toPayload('newer')]))];
    const opened = python('decode', `${k2},${k1}`, sealedByTs);
    expect(opened.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([value, 'newer']);
  });

  it('TypeScript decrypts what the Python worker encrypted', async () => {
    const [sealedByPython] = python('encode', `${k2},${k1}`, [defaultPayloadConverter.toPayload(value)]);
    expect(Buffer.from(sealedByPython.metadata?.['encryption-key-id'] ?? []).toString()).toBe('k2');
    expect(Buffer.from(sealedByPython.data ?? []).toString()).not.toContain('artifact:features');
    const [opened] = await new EncryptionCodec(parseCodecKeys(`${k2},${k1}`, 'k')).decode([sealedByPython]);
    expect(defaultPayloadConverter.fromPayload(opened)).toEqual(value);
  });

  it('the Python worker refuses to start on a malformed key, naming the variable', () => {
    const run = spawnSync(PYTHON, ['-m', 'sluice_python.worker'], { cwd: path.join(ROOT, 'workers', 'python'), encoding: 'utf8', timeout: 60_000, env: { ...process.env, SLUICE_CODEC_KEYS: 'k1=c2hvcnQ=', TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('sluice python worker: SLUICE_CODEC_KEYS: entry 1 (key id `k1`) is not 32 bytes in base64 (an AES-256 key; `sluice codec-key k1` makes one)');
  });
});
