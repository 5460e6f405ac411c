import fs from 'node:fs';
import path from 'node:path';
import { dataError } from '../../contracts/errors';

const PARQUET_MAGIC = 'PAR1';

/** What the first bytes of a file that is not Parquet suggest it is, with the spec setting that reads it. */
function lookalike(head: Buffer): string {
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (head.subarray(0, 6).toString('latin1') === 'ARROW1') return 'it is an Arrow IPC file: set `format: arrow`';
  if (text.startsWith('{') || text.startsWith('[')) return 'it looks like JSON: set `format: json`';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'it is gzip-compressed: a compressed CSV file needs a name ending in .csv.gz or `format: csv`';
  const firstLine = text.split('\n')[0] ?? '';
  if (/^[\x20-\x7e\t]+$/.test(firstLine) && /[,;\t|]/.test(firstLine)) return 'it looks like CSV text: set `format: csv`';
  return 'it does not start with the Parquet magic bytes PAR1';
}

/**
 * Refuses a Parquet source that is not one, or is cut short, before DuckDB reads it (DuckDB says "No magic
 * bytes found at end of file" for both). `field` is the spec field named in the error (`sources.flights.path`).
 */
export function checkParquetFile(file: string, field: string): void {
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, 64));
    fs.readSync(fd, head, 0, head.length, 0);
    const name = path.basename(file);
    if (head.subarray(0, 4).toString('latin1') !== PARQUET_MAGIC) {
      throw dataError(`${field}: ${name} is not a Parquet file (${size} bytes): ${lookalike(head)}`);
    }
    const tail = Buffer.alloc(4);
    if (size >= 12) fs.readSync(fd, tail, 0, 4, size - 4);
    if (size < 12 || tail.toString('latin1') !== PARQUET_MAGIC) {
      throw dataError(`${field}: ${name} is a truncated or corrupt Parquet file (footer missing), ${size} bytes: it was cut short while being written or copied; write or copy it again`);
    }
  } finally {
    fs.closeSync(fd);
  }
}
