import { sqlIdent, sqlString } from '../sql/duckdb';
import { HASH_BUCKETS, HASH_EPOCH, hashSplitOf, SPLIT_DAY, type LoadedSpec } from '../../contracts/spec';

/**
 * The day of a row's hash bucket, as SQL over its key columns: the first 32 bits of the MD5 of the seed and the
 * keys as text (a NULL key as a byte no text has), modulo {@link HASH_BUCKETS}, as a day after {@link HASH_EPOCH}.
 * MD5 rather than DuckDB's hash(): the same in every DuckDB version and on every machine, so a row never changes
 * side between runs.
 */
export function splitDaySql(keys: string[], seed: number): string {
  const parts = [sqlString(String(seed)), ...keys.map((k) => `coalesce(CAST(${sqlIdent(k)} AS VARCHAR), chr(0))`)];
  const bucket = `('0x' || substr(md5(concat_ws(chr(31), ${parts.join(', ')})), 1, 8))::UBIGINT % ${HASH_BUCKETS}`;
  return `DATE ${sqlString(HASH_EPOCH)} + CAST(${bucket} AS INTEGER)`;
}

/** `query` (a SELECT, on lines of its own) with its rows' bucket day as the column {@link SPLIT_DAY}, replacing one it already has. */
export function withSplitDay(loaded: LoadedSpec, query: string): string {
  const hash = hashSplitOf(loaded.spec);
  if (!hash) return query;
  return `\nSELECT COLUMNS(c -> c <> ${sqlString(SPLIT_DAY)}), ${splitDaySql(hash.keys, hash.seed)} AS ${SPLIT_DAY} FROM (${query})\n`;
}
