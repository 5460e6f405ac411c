import { z } from 'zod';
import { identifier } from '../../contracts/spec';
import { hasPassword } from './postgres-sink';
import type { SinkPlugin } from './sink';

const onPython = (): never => {
  throw new Error('inference.sink: the iceberg sink publishes on the Python worker (its publish step is routed there when the spec is loaded)');
};

/**
 * An Apache Iceberg table partitioned by day, written by pyiceberg on the Python worker (`iceberg.py` beside this
 * file) through a SQL catalog: each publish is one commit that replaces exactly its days, retried on a conflicting commit.
 */
export const sink: SinkPlugin = {
  type: 'iceberg',
  summary: 'an Apache Iceberg table partitioned by day (pyiceberg on the Python worker, a SQL catalog): each publish one snapshot that replaces its days',
  params: z
    .object({
      type: z.literal('iceberg'),
      path: z.string().min(1).describe("The table's folder (its data and metadata files), relative to the spec, inside the data roots."),
      namespace: identifier().default('sluice').describe("The catalog namespace the table is in."),
      table: identifier().describe("The table's name in the namespace."),
      catalog: z
        .string()
        .min(1)
        .refine((url) => !hasPassword(url), { message: "must not contain a password: a spec is recorded in every run's history. Give the Python workers the catalog URL in SLUICE_ICEBERG_CATALOG, or the password in PGPASSWORD", params: { sensitive: true } })
        .optional()
        .describe('The SQL catalog, a SQLAlchemy URL without a password (`postgresql+psycopg2://sluice@db/iceberg`); when left out, SLUICE_ICEBERG_CATALOG on the Python workers, else SQLite in the artifact root.'),
    })
    .strict(),
  objectStorage: false,
  runtime: 'python',
  publish: onPython,
  publishedDays: onPython,
};
