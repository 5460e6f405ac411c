import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { daysIn, publishDays, scoredBy } from './day-folders';
import { publishParquetToS3, s3PublishedDays } from './s3-datasets';
import type { SinkPlugin } from './sink';

/**
 * A Parquet dataset partitioned by day, `day=YYYY-MM-DD/part-N.parquet`: in a folder (each day assembled aside
 * and swapped in by rename) or under an `s3://` prefix (new files, then the day's `_sluice.json` that lists them).
 */
export const sink: SinkPlugin = {
  type: 'parquet',
  summary: 'a Parquet dataset partitioned by day (a folder, or an s3:// prefix): each day replaced whole',
  params: z
    .object({
      type: z.literal('parquet'),
      path: z.string().min(1).describe("The dataset's folder (relative to the spec), or `s3://bucket/prefix` inside SLUICE_S3_ROOTS."),
    })
    .strict(),
  objectStorage: true,
  async publish(target, request) {
    if (target.s3) return publishParquetToS3(target.s3, request);
    return publishDays(target.local as string, request, (folder, _, files) => files.forEach((file, i) => fs.copyFileSync(file, path.join(folder, `part-${i}.parquet`))));
  },
  async publishedDays(target, filter) {
    const days = target.s3 ? await s3PublishedDays(target.s3) : daysIn(target.local as string);
    return scoredBy(days, filter);
  },
};
