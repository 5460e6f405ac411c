import type { DataConverter } from '@temporalio/common';
import type { CodecKeys } from './codec-keys';
import { EncryptionCodec } from './encryption-codec';

/** The data converter of every Sluice client and worker: payloads encrypted when codec keys are configured. */
export function dataConverterOf(keys: CodecKeys | undefined): DataConverter | undefined {
  return keys ? { payloadCodecs: [new EncryptionCodec(keys)] } : undefined;
}
