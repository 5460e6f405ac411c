import path from 'node:path';
import { z } from 'zod';
import { writeArrowFile } from '../sources/arrow-files';
import { withDuckDB } from '../sql/duckdb';
import { daysIn, publishDays, scoredBy } from './day-folders';
import type { SinkPlugin } from './sink';
import { stagedRelation } from './staged';

/** An Arrow IPC dataset, `day=YYYY-MM-DD/part-0.arrow` (for apache-arrow, pyarrow or polars): each day's rows in one file. */
export const sink: SinkPlugin = {
  type: 'arrow',
  summary: 'an Arrow IPC dataset partitioned by day (a folder), one file per day, each day replaced whole',
  params: z
    .object({
      type: z.literal('arrow'),
      path: z.string().min(1).describe("The dataset's folder, relative to the spec."),
    })
    .strict(),
  objectStorage: false,
  publish(target, request) {
    const columns = request.columns.filter((c) => c.name !== 'day');
    return withDuckDB((connection) =>
      publishDays(target.local as string, request, async (folder, day, files) => {
        await writeArrowFile(connection, stagedRelation(new Map([[day, files]])), columns, path.join(folder, 'part-0.arrow'));
      }),
    );
  },
  publishedDays: async (target, filter) => scoredBy(daysIn(target.local as string), filter),
};
