import path from 'node:path';
import { z } from 'zod';
import { sqlString, withDuckDB } from '../sql/duckdb';
import { daysIn, publishDays, scoredBy } from './day-folders';
import type { SinkPlugin } from './sink';
import { stagedRelation } from './staged';

/** A CSV dataset partitioned by day, `day=YYYY-MM-DD/part-0.csv` with a header line: for spreadsheets and tools that read nothing else. */
export const sink: SinkPlugin = {
  type: 'csv',
  summary: 'a CSV dataset partitioned by day (a folder), one file with a header line per day, each day replaced whole',
  params: z
    .object({
      type: z.literal('csv'),
      path: z.string().min(1).describe('The dataset\'s folder, relative to the spec.'),
    })
    .strict(),
  objectStorage: false,
  publish(target, request) {
    const columns = request.columns.filter((c) => c.name !== 'day').map((c) => `"${c.name.replace(/"/g, '""')}"`);
    return withDuckDB((connection) =>
      publishDays(target.local as string, request, async (folder, day, files) => {
        const file = path.join(folder, 'part-0.csv');
        await connection.run(`COPY (SELECT ${columns.join(', ')} FROM ${stagedRelation(new Map([[day, files]]))}) TO ${sqlString(file)} (FORMAT csv, HEADER true)`);
      }),
    );
  },
  publishedDays: async (target, filter) => scoredBy(daysIn(target.local as string), filter),
};
