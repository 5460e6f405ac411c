import path from 'node:path';
import { discover } from '../spec/discover';
import type { FormatPlugin } from './format';

let registered: FormatPlugin[] | undefined;

/** The registered source formats: every module in formats/ (Parquet is the default). */
export function sourceFormats(): FormatPlugin[] {
  registered ??= discover<FormatPlugin>(path.join(__dirname, 'formats'), 'format');
  return registered;
}

/** The format of a source: the one the spec names, else the first whose extensions match the file name, else Parquet. */
export function formatOf(file: string, declared: string | undefined): FormatPlugin {
  const formats = sourceFormats();
  const named = declared === undefined ? formats.find((f) => f.extensions.test(file)) : formats.find((f) => f.name === declared);
  const chosen = named ?? formats.find((f) => f.name === 'parquet');
  if (!chosen) throw new Error(`no source format ${declared ?? 'parquet'} is registered`);
  return chosen;
}
