import { ApplicationFailure } from '@temporalio/common';

/**
 * Failure types Sluice raises on purpose. Each is non-retryable: retrying cannot cure bad input,
 * so the run stops at once with a message that says what is wrong and where.
 */
export const SluiceErrorType = {
  /** The pipeline spec is invalid (YAML, schema or a value out of range). */
  Spec: 'SluiceSpecError',
  /** The data does not fit what the spec says (missing column, wrong type, NULLs, empty window, one class). */
  Data: 'SluiceDataError',
  /** A model artifact is unreadable or does not match the data it is asked to score. */
  Model: 'SluiceModelError',
} as const;

export function specError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, SluiceErrorType.Spec);
}

export function dataError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, SluiceErrorType.Data);
}

export function modelError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, SluiceErrorType.Model);
}
