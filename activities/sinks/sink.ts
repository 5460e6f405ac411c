import type { ColumnInfo } from '../../contracts/artifacts';
import type { SinkDescriptor } from '../../contracts/plugins';
import type { LoadedSpec } from '../../contracts/spec';
import type { S3Location } from '../storage/object-store';

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

/**
 * Where a sink writes, resolved and confined before it is handed to the plug-in: the spec's sink section, and
 * its `path` as a real path inside the data roots (`local`) or an S3 location inside SLUICE_S3_ROOTS (`s3`, for
 * sinks that can write to object storage); neither for sinks without a path (a database URL).
 */
export interface SinkTarget {
  loaded: LoadedSpec;
  params: Record<string, unknown> & { type: string };
  local?: string;
  s3?: S3Location;
}

/** Which published days to list: only those a model version scored, when given. */
export interface PublishedFilter {
  from?: string;
  to?: string;
  modelVersion?: number;
}

/**
 * A sink plug-in: one module `*-sink.ts` in this folder, exported as `sink`. A sink that runs on the Python worker
 * (`runtime: 'python'`, its `<type>.py` beside it) is published there; its `publish` here only refuses. `publish` is atomic per day — a
 * reader sees a day's old rows or its new ones, never a mix or a half-written file, and a reprocessed day
 * replaces its rows — and a retry of the same run publishes nothing twice. `publishedDays` lists the days present.
 */
export interface SinkPlugin extends SinkDescriptor {
  publish(target: SinkTarget, request: PublishRequest): Promise<PublishResult>;
  publishedDays(target: SinkTarget, filter: PublishedFilter): Promise<string[]>;
}
