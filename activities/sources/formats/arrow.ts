import { loadArrowTable } from '../arrow-files';
import type { FormatPlugin } from '../format';

/** Arrow IPC (`.arrow`, `.feather`): loaded into a table with apache-arrow (DuckDB's arrow extension is a download). */
export const format: FormatPlugin = {
  name: 'arrow',
  summary: 'Arrow IPC files (.arrow, .feather, .ipc): loaded into a table with apache-arrow',
  extensions: /\.(arrow|feather|ipc)$/i,
  open: (connection, name, file, field) => loadArrowTable(connection, name, file, field),
};
