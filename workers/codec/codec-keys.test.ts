import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codecKeysFrom, parseCodecKeys } from './codec-keys';

const key = () => crypto.randomBytes(32).toString('base64');

describe('codec keys', () => {
  it('takes the first entry as the current key and keeps every key by id', () => {
    const [k1, k0] = [key(), key()];
    const keys = parseCodecKeys(`k1=${k1},\n k0=${k0}\n`, 'SLUICE_CODEC_KEYS');
    expect(keys.current.id).toBe('k1');
    expect(keys.current.key.toString('base64')).toBe(k1);
    expect([...keys.byId.keys()]).toEqual(['k1', 'k0']);
    expect(keys.byId.get('k0')?.toString('base64')).toBe(k0);
  });

  it('is off when neither variable is set, and reads a file (a Docker secret) as the list', () => {
    expect(codecKeysFrom({})).toBeUndefined();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'codec-keys-')), 'keys');
    const k = key();
    fs.writeFileSync(file, `# rotated 2026-12\nprod-2=${k}\n`);
    expect(codecKeysFrom({ SLUICE_CODEC_KEYS_FILE: file })?.current).toEqual({ id: 'prod-2', key: Buffer.from(k, 'base64') });
    expect(() => codecKeysFrom({ SLUICE_CODEC_KEYS_FILE: `${file}-missing` })).toThrow(/^SLUICE_CODEC_KEYS_FILE: cannot read .*keys-missing \(ENOENT\)$/);
    expect(() => codecKeysFrom({ SLUICE_CODEC_KEYS_FILE: file, SLUICE_CODEC_KEYS: `a=${k}` })).toThrow('SLUICE_CODEC_KEYS and SLUICE_CODEC_KEYS_FILE are both set: set one of them');
  });

  it('refuses a malformed list naming the variable and the entry, never quoting a key', () => {
    const short = crypto.randomBytes(16).toString('base64');
    const typo = `${key().slice(0, 20)}!${key().slice(21)}`;
    const cases: [string, string][] = [
      ['', 'SLUICE_CODEC_KEYS: holds no key; expected id=<base64 of 32 bytes>, the current key first'],
      [key(), 'SLUICE_CODEC_KEYS: entry 1 has no valid key id'],
      // A bare key whose base64 holds no '+' or '/' looks like an id before its padding.
      [`${'A1b2'.repeat(10)}xyz=`, 'SLUICE_CODEC_KEYS: entry 1 has no valid key id'],
      [`${'A1b2'.repeat(10)}x==`, 'SLUICE_CODEC_KEYS: entry 1 has no valid key id'],
      [`k1=${key()},bad id=${key()}`, 'SLUICE_CODEC_KEYS: entry 2 has no valid key id'],
      [`k1=${short}`, 'SLUICE_CODEC_KEYS: entry 1 (key id `k1`) is not 32 bytes in base64 (an AES-256 key; `sluice codec-key k1` makes one)'],
      [`k1=${typo}`, 'SLUICE_CODEC_KEYS: entry 1 (key id `k1`) is not 32 bytes in base64'],
      [`k1=${key()},k1=${key()}`, 'SLUICE_CODEC_KEYS: entry 2: key id `k1` appears twice'],
    ];
    for (const [text, message] of cases) {
      let error: Error | undefined;
      try {
        parseCodecKeys(text, 'SLUICE_CODEC_KEYS');
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message).toContain(message);
      for (const part of text.split(/[,=]/).filter((p) => p.length >= 20)) expect(error?.message).not.toContain(part);
    }
  });
});
