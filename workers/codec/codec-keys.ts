import fs from 'node:fs';

/** One AES-256 key and the id payloads encrypted under it carry. */
export interface CodecKey {
  id: string;
  key: Buffer;
}

/** The keys of the payload codec: `current` encrypts, every key (by id) decrypts. */
export interface CodecKeys {
  current: CodecKey;
  byId: ReadonlyMap<string, Buffer>;
}

/** A key setting that cannot be used: the worker, client or codec server refuses to start. Never quotes a key. */
export class CodecKeyError extends Error {}

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The payload codec's keys, from `SLUICE_CODEC_KEYS` (the list itself) or `SLUICE_CODEC_KEYS_FILE` (a file
 * holding it, such as a Docker secret); undefined when neither is set (payloads are not encrypted).
 *
 * The list is `id=<base64 of 32 bytes>` entries, separated by commas or newlines; the first is the current key,
 * the others are older keys kept so that payloads encrypted under them still decrypt. Rotating a key is putting
 * a new entry first and keeping the old one until no running workflow's history needs it.
 */
export function codecKeysFrom(env: NodeJS.ProcessEnv = process.env): CodecKeys | undefined {
  const inline = env.SLUICE_CODEC_KEYS?.trim();
  const file = env.SLUICE_CODEC_KEYS_FILE?.trim();
  if (inline && file) throw new CodecKeyError('SLUICE_CODEC_KEYS and SLUICE_CODEC_KEYS_FILE are both set: set one of them');
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new CodecKeyError(`SLUICE_CODEC_KEYS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    return parseCodecKeys(text, `SLUICE_CODEC_KEYS_FILE (${file})`);
  }
  return inline ? parseCodecKeys(inline, 'SLUICE_CODEC_KEYS') : undefined;
}

/** Parses a key list (see {@link codecKeysFrom}); `source` names the variable in errors. */
export function parseCodecKeys(text: string, source: string): CodecKeys {
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e !== '' && !e.startsWith('#'));
  if (entries.length === 0) throw new CodecKeyError(`${source}: holds no key; expected id=<base64 of 32 bytes>, the current key first`);
  const byId = new Map<string, Buffer>();
  const keys = entries.map((entry, i) => {
    const at = entry.indexOf('=');
    // A bare key ends in base64 padding (`…=`): an `=` with nothing but padding after it is no `id=` and the text
    // before it is the key itself, which the error must not quote as an id.
    const id = at < 0 || /^=*$/.test(entry.slice(at + 1).trim()) ? '' : entry.slice(0, at).trim();
    const where = `${source}: entry ${i + 1}`;
    if (!KEY_ID.test(id)) throw new CodecKeyError(`${where} has no valid key id (expected id=<base64 of 32 bytes>, the id of letters, digits, '.', '_' or '-', at most 64)`);
    const encoded = entry.slice(at + 1).trim();
    const key = Buffer.from(encoded, 'base64');
    // Buffer.from skips characters that are not base64: compare the round trip so that a typo is not a shorter key.
    if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
      throw new CodecKeyError(`${where} (key id \`${id}\`) is not 32 bytes in base64 (an AES-256 key; \`sluice codec-key ${id}\` makes one)`);
    }
    if (byId.has(id)) throw new CodecKeyError(`${where}: key id \`${id}\` appears twice`);
    byId.set(id, key);
    return { id, key };
  });
  return { current: keys[0], byId };
}
