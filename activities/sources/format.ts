import type { DuckDBConnection } from '@duckdb/node-api';
import type { FormatDescriptor } from '../../contracts/plugins';

/**
 * A source format plug-in (one module in formats/, exported as `format`): how a file of this format becomes a
 * relation spec SQL can read, and — for the error that quotes the first value that is not a number — how to
 * read its rows as text with their position.
 */
export interface FormatPlugin extends FormatDescriptor {
  /** Makes `file` queryable as `name` (a view, or a table loaded once); errors name `field` (`sources.flights.path`). */
  open(connection: DuckDBConnection, name: string, file: string, field: string): Promise<void>;
  /** The file's rows with every column as text, and each row's position in the file (line or row), when the format can say. */
  positions?(file: string): { relation: string; position: string; unit: 'line' | 'row' };
}
