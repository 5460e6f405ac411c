import crypto from 'node:crypto';
import { ApplicationFailure, METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { CodecKeys } from './codec-keys';

/** The encoding of an encrypted payload, as Temporal's samples in every SDK name it (so their tools read ours). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata field naming the key a payload was encrypted under. */
export const KEY_ID_METADATA = 'encryption-key-id';
/** The failure type of a payload that cannot be decrypted here (unknown key id, or not this key's). */
export const CODEC_FAILURE_TYPE = 'SluiceCodecError';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const text = new TextEncoder();
const decoder = new TextDecoder();

/**
 * AES-256-GCM payload encryption. A payload is serialised whole (its metadata too, so the encoding of the value
 * inside is hidden) and encrypted under the current key with a random 96-bit nonce; the result is
 * `nonce ‖ ciphertext ‖ tag`, with the encoding `binary/encrypted` and the key's id in the metadata. The Python
 * worker's codec (`sluice_python/codec.py`) writes and reads the same format.
 *
 * Payloads that are not encrypted pass through decode unchanged, so histories written before encryption was
 * turned on still replay.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: CodecKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys.current;
    return payloads.map((payload) => {
      const nonce = crypto.randomBytes(NONCE_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { [METADATA_ENCODING_KEY]: text.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text.encode(id) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const id = idBytes ? decoder.decode(idBytes) : undefined;
      const key = id === undefined ? undefined : this.keys.byId.get(id);
      if (!key) {
        throw ApplicationFailure.create({
          message: id === undefined ? 'an encrypted payload names no key id' : `a payload is encrypted under key id \`${id}\`, which the codec keys here do not hold (add it to SLUICE_CODEC_KEYS as an older key)`,
          type: CODEC_FAILURE_TYPE,
          nonRetryable: true,
        });
      }
      const data = payload.data ?? new Uint8Array();
      if (data.length < NONCE_BYTES + TAG_BYTES) throw ApplicationFailure.create({ message: `an encrypted payload under key id \`${id}\` is ${data.length} bytes, too short to hold a nonce and a tag`, type: CODEC_FAILURE_TYPE, nonRetryable: true });
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw ApplicationFailure.create({ message: `a payload under key id \`${id}\` does not decrypt with that key (the key under that id changed, or the payload was altered)`, type: CODEC_FAILURE_TYPE, nonRetryable: true });
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
