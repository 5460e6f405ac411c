import type { ColumnInfo } from '../../contracts/artifacts';

/** What a sink receives: the run's staged files and row counts by day. */
export interface PublishRequest {
  runId: string;
  modelVersion: number;
  files: Map<string, string[]>;
  rowsByDay: Map<string, number>;
  columns: ColumnInfo[];
}

export interface PublishResult {
  /** Where the rows went (a folder, `database#table`, or a redacted connection string with `#table`). */
  location: string;
  days: number;
  rows: number;
}
