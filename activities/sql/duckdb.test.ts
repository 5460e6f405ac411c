import { redactedFirstLine } from './duckdb';

describe('DuckDB errors shown to users', () => {
  it('masks data values quoted in conversion and parse errors, and keeps only the first line', () => {
    expect(redactedFirstLine("Conversion Error: Could not convert string 'hunter2' to INT32 when casting from source column note\n\nLINE 1: SELECT …")).toBe(
      "Conversion Error: Could not convert string '…' to INT32 when casting from source column note",
    );
    expect(redactedFirstLine('Invalid Input Error: Could not parse string "s3cr3t" according to format specifier "%Y"')).toBe(
      'Invalid Input Error: Could not parse string "…" according to format specifier "%Y"',
    );
  });

  it('keeps the path of an existing file, and errors that quote no data', () => {
    expect(redactedFirstLine(`Invalid Input Error: No magic bytes found at end of file '${__filename}'`)).toBe(`Invalid Input Error: No magic bytes found at end of file '${__filename}'`);
    expect(redactedFirstLine('Binder Error: Referenced column "carrier" not found in FROM clause!\nCandidate bindings: "date"')).toBe(
      'Binder Error: Referenced column "carrier" not found in FROM clause!',
    );
  });
});
