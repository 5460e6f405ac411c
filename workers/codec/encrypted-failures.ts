import { DefaultFailureConverter } from '@temporalio/common';

/**
 * The failure converter of workers that encrypt payloads: a failure's message and stack trace move into its
 * encoded attributes, a payload the codec encrypts, so that data values quoted in an error are not stored in plain
 * text (the history shows "Encoded failure" until the codec decodes it). Loaded by path, in the workflow bundle too.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
