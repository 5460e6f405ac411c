import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import type { CodecKeys } from './codec-keys';
import { EncryptionCodec } from './encryption-codec';

/** The module whose failure converter encodes failure messages (workers and workflow bundles of encrypting workers). */
export const ENCRYPTED_FAILURES_PATH = path.join(__dirname, 'encrypted-failures');

/**
 * The data converter of every Sluice client and worker: undefined (Temporal's default) without codec keys; with
 * them, payloads encrypted and failure messages encoded, so that the codec encrypts them too.
 */
export function dataConverterOf(keys: CodecKeys | undefined): DataConverter | undefined {
  return keys ? { payloadCodecs: [new EncryptionCodec(keys)], failureConverterPath: ENCRYPTED_FAILURES_PATH } : undefined;
}
