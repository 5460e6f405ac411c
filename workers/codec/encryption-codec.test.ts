import crypto from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { decodeFromPayloadsAtIndex, encodeToPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { parseCodecKeys } from './codec-keys';
import { ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA } from './encryption-codec';

const entry = (id: string) => `${id}=${crypto.randomBytes(32).toString('base64')}`;
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const spec = { name: 'flights', features: { sql: "SELECT origin, avg(delay) OVER w AS origin_delay_rate_7d FROM source WHERE origin = 'SEA'" }, source: 'data/flights-3m.parquet' };

async function roundTrip(codec: EncryptionCodec, value: unknown): Promise<{ encrypted: Payload; decoded: unknown }> {
  const converter = { payloadConverter: defaultPayloadConverter, payloadCodecs: [codec], failureConverter: undefined as never };
  const encrypted = (await encodeToPayloads(converter, value))?.[0] as Payload;
  return { encrypted, decoded: await decodeFromPayloadsAtIndex(converter, 0, [encrypted]) };
}

describe('the encryption payload codec', () => {
  it('encrypts the whole payload under the current key, its encoding too, and decrypts it back', async () => {
    const [k1, k0] = [entry('k1'), entry('k0')];
    const codec = new EncryptionCodec(parseCodecKeys(`${k1},${k0}`, 'SLUICE_CODEC_KEYS'));
    const { encrypted, decoded } = await roundTrip(codec, spec);
    expect(decoded).toEqual(spec);
    expect(Object.keys(encrypted.metadata ?? {}).sort()).toEqual(['encoding', KEY_ID_METADATA]);
    expect(text(encrypted.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted.metadata?.[KEY_ID_METADATA])).toBe('k1');
    for (const plain of ['SELECT', 'origin_delay_rate_7d', 'flights-3m', 'json/plain']) expect(text(encrypted.data)).not.toContain(plain);
    // A random nonce each time: the same value never encrypts to the same bytes.
    const again = await roundTrip(codec, spec);
    expect(Buffer.from(again.encrypted.data ?? []).equals(Buffer.from(encrypted.data ?? []))).toBe(false);
    // nonce (12) + the serialised payload + tag (16)
    expect(encrypted.data?.length).toBeGreaterThan(28 + JSON.stringify(spec).length);
  });

  it('decrypts payloads under an older key after a rotation, and refuses an unknown key id without quoting a key', async () => {
    const [k1, k2] = [entry('k1'), entry('k2')];
    const before = new EncryptionCodec(parseCodecKeys(k1, 'SLUICE_CODEC_KEYS'));
    const [old] = await before.encode([defaultPayloadConverter.toPayload({ window: '2001-01-01 .. 2001-01-24' })]);
    const rotated = new EncryptionCodec(parseCodecKeys(`${k2},${k1}`, 'SLUICE_CODEC_KEYS'));
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old]))[0])).toEqual({ window: '2001-01-01 .. 2001-01-24' });
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload(1)]);
    expect(text(fresh.metadata?.[KEY_ID_METADATA])).toBe('k2');

    const stranger = new EncryptionCodec(parseCodecKeys(k2, 'SLUICE_CODEC_KEYS'));
    const failure = await stranger.decode([old]).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).type).toBe('SluiceCodecError');
    expect((failure as ApplicationFailure).message).toBe('a payload is encrypted under key id `k1`, which the codec keys here do not hold (add it to SLUICE_CODEC_KEYS as an older key)');
    for (const key of [k1, k2]) expect((failure as Error).message).not.toContain(key.split('=')[1]);
  });

  it('refuses an altered payload or another key under the same id, and passes payloads that were never encrypted', async () => {
    const k1 = entry('k1');
    const codec = new EncryptionCodec(parseCodecKeys(k1, 'SLUICE_CODEC_KEYS'));
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload('2001-01-17: 8571 rows')]);
    const altered = Buffer.from(sealed.data ?? []);
    altered[20] ^= 1;
    await expect(codec.decode([{ ...sealed, data: altered }])).rejects.toThrow('a payload under key id `k1` does not decrypt with that key (the key under that id changed, or the payload was altered)');
    const replaced = new EncryptionCodec(parseCodecKeys(entry('k1'), 'SLUICE_CODEC_KEYS'));
    await expect(replaced.decode([sealed])).rejects.toThrow('does not decrypt with that key');
    await expect(codec.decode([{ ...sealed, data: new Uint8Array(10) }])).rejects.toThrow('is 10 bytes, too short to hold a nonce and a tag');
    const plain = defaultPayloadConverter.toPayload({ recorded: 'before encryption' });
    expect(await codec.decode([plain])).toEqual([plain]);
  });
});
