/** A failure as Temporal nests it: workflow → activity → the application failure that says what is wrong. */
interface Nested {
  message?: string;
  type?: string | null;
  cause?: unknown;
}

/** The innermost cause of a nested failure (the error itself when it has none). */
export function rootCause(err: unknown): Nested | undefined {
  let root = err as Nested | undefined;
  while (root?.cause) root = root.cause as Nested;
  return root;
}

/** The innermost message of a nested failure. */
export function rootMessage(err: unknown): string {
  return rootCause(err)?.message ?? String(err);
}
