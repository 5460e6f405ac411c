import fs from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type ArtifactStore, type StagingArea, fingerprintOf } from '../storage/artifact-store';
import { metered } from '../cost/meter';
import { describeQuery, runSpecSql, scalar, sqlIdent, sqlString, withDuckDB } from '../sql/duckdb';
import { dataError, modelError } from '../../contracts/errors';
import { checkPointInTime } from './point-in-time-check';
import { explainSqlError, NESTED } from '../sql/sql-errors';
import { buildDictionary, codedFeaturesSql } from './categories';
import { checkValidationClasses, classCodeSql, trainingClasses } from './classes';
import { firstRow } from './first-row';
import { dayLevelFeatures, profileFeatures } from '../checks/drift';
import { horizonWithinData, labelledRowsSql, windowFeaturesSql } from './point-in-time';
import { createSourceViews, featureSql, featuresQuery, sourceFingerprints, windowPredicate } from '../sources/sources';
import { CATEGORIES_TABLE, hashSplitOf, SPLIT_DAY, type DateWindow, type LoadedSpec } from '../../contracts/spec';
import type { Task } from '../../contracts/tasks';
import type { ArtifactRef, ClassCount, ColumnInfo, FeatureSet, ExtractedRows } from '../../contracts/artifacts';

/** Bumped when the feature step's output for the same inputs would change. */
const FEATURES_VERSION = 5;

const NUMERIC_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*|BOOLEAN)$/;

/** Hash of a spec's feature definition: what inference must share with training. */
export function featureDefinitionHash(loaded: LoadedSpec): string {
  return fingerprintOf('feature-definition', JSON.stringify(loaded.spec.label), JSON.stringify(loaded.spec.features));
}

export interface FeaturesInput {
  loaded: LoadedSpec;
  extracted: ExtractedRows;
}

/**
 * Computes features for the training and validation windows with the spec's SQL. Statistics are
 * computed from the training window alone; features are stored as FLOAT, the label as FLOAT (0/1 for a yes/no task, the
 * class code for a multiclass one).
 */
export async function buildFeatures(store: ArtifactStore, { loaded, extracted }: FeaturesInput) {
  const { spec } = loaded;
  return metered(async (meter) => {
    const fingerprint = fingerprintOf(
      'features',
      FEATURES_VERSION,
      extracted.fingerprint,
      await sourceFingerprints(loaded),
      JSON.stringify(spec.label),
      JSON.stringify(spec.features),
      JSON.stringify(spec.split),
      // The task decides which labels are valid: a yes/no pipeline's feature set keeps the fingerprint it had before tasks.
      ...(spec.task && spec.task !== 'binary' ? [spec.task] : []),
    );
    const output = await store.reuseOrBuild('features', fingerprint, (staging) =>
      withDuckDB(async (connection): Promise<FeatureSet> => {
        try {
          await createSourceViews(connection, loaded, featureSql(loaded));
          await connection.run(`CREATE VIEW extracted AS SELECT * FROM read_parquet(${sqlString(await store.fetch(extracted.uri))})`);
          // The training window's rows (labels included) for the statistics: a view of its own, since `source` changes per split.
          await createLabelledView(connection, loaded, 'train_rows', spec.split.train);
          await connection.run(
            `CREATE VIEW train AS SELECT * FROM train_rows WHERE ${windowPredicate(spec.extract.time_column, spec.split.train)} AND ${horizonWithinData(loaded, extracted.dataEnd)}`,
          );
          // Every training row's label, computed once here, so a label that fails on the data is reported as label.sql's.
          await runSpecSql('label.sql', () => connection.run(`SELECT count(${sqlIdent(spec.label.name)}) FROM train`));
          const task = spec.task ?? 'binary';
          // A multiclass label's classes come from the training window; the split files hold each row's class code.
          const classes = task === 'multiclass' ? await trainingClasses(connection, 'train', spec.label.name, spec.extract.time_column) : undefined;
          const stats = await computeStats(connection, loaded, staging);
          const featureColumns = await classifyColumns(connection, loaded);
          // Categories are coded by a dictionary of the training window's rows, like every statistic.
          let categories: Awaited<ReturnType<typeof buildDictionary>> | undefined;
          if ((spec.features.categorical ?? []).length > 0) {
            await createLabelledView(connection, loaded, 'source', spec.split.train); // the rows the training split is written from
            categories = await buildDictionary(connection, loaded, windowFeaturesSql(loaded, spec.split.train, extracted.dataEnd), staging);
          }
          if (categories) stats[CATEGORIES_TABLE] = categories.ref;
          const train = await writeSplit(connection, loaded, staging, 'train', featureColumns, fingerprint, extracted.dataEnd, classes);
          const validate = await writeSplit(connection, loaded, staging, 'validate', featureColumns, fingerprint, extracted.dataEnd, classes);
          // Features constant within each validation day have no per-day drift (`source` is the validation window here).
          const dayLevel = await runSpecSql('features.sql', () => dayLevelFeatures(connection, loaded, featureColumns.map((c) => c.name), extracted.dataEnd));
          const positiveRate = classes ? Math.max(...classes.map((c) => c.rows)) / train.ref.rows : await checkLabel(connection, staging, train.ref, spec.label.name, task, spec.extract.time_column);
          await checkPointInTime(connection, loaded, featureColumns);
          // Each feature's validation distribution: what scored days' drift is measured against.
          const profile = await profileFeatures(connection, `read_parquet(${sqlString(staging.file('validate.parquet'))})`, featureColumns.map((c) => c.name), spec.features.categorical ?? [], dayLevel);
          return {
            fingerprint,
            train: train.ref,
            validate: validate.ref,
            stats,
            featureColumns,
            keys: spec.features.keys,
            label: spec.label.name,
            positiveRate,
            horizonDropped: { train: train.dropped, validate: validate.dropped },
            definitionHash: featureDefinitionHash(loaded),
            ...(categories ? { categorical: categories.columns } : {}),
            ...(classes ? { classes } : {}),
            profile,
          };
        } catch (err) {
          // A text value in a numeric column, a missing column: say which and where, not DuckDB's list of candidate functions.
          throw await explainSqlError(connection, loaded, ['extracted', 'source', ...Object.keys(spec.sources), ...Object.keys(spec.features.stats)], err);
        }
      }, { confineTo: [store.root] }),
    );
    meter.rowsIn = extracted.rows;
    meter.bytesIn = extracted.bytes;
    meter.rowsOut = output.value.train.rows + output.value.validate.rows;
    meter.bytesOut = output.value.train.bytes + output.value.validate.bytes;
    return { features: output.value, reused: output.reused };
  });
}

/** `name` = the extracted rows `window` reads (lookback and horizon included) with the label column computed from label.sql. */
async function createLabelledView(connection: DuckDBConnection, loaded: LoadedSpec, name: string, window: DateWindow): Promise<void> {
  const { spec } = loaded;
  await runSpecSql('label.sql', () => connection.run(`CREATE OR REPLACE VIEW ${sqlIdent(name)} AS ${labelledRowsSql(loaded, 'extracted', { window, horizon: true })}`));
  const labelType = (await describeQuery(connection, sqlIdent(name))).find((c) => c.name === spec.label.name)?.type ?? '';
  if ((spec.task ?? 'binary') === 'regression') {
    if (!NUMERIC_TYPES.test(labelType) || labelType === 'BOOLEAN') {
      const first = await firstRow(connection, sqlIdent(name), `${sqlIdent(spec.label.name)} IS NOT NULL`, spec.label.name, spec.extract.time_column);
      throw dataError(`label.sql: a regression label is a number, got ${labelType}${first === undefined ? '' : ` (the first: ${JSON.stringify(first.value)})`}; cast it in label.sql, or set task: binary for a yes/no label`);
    }
  } else if ((spec.task ?? 'binary') === 'binary' && !NUMERIC_TYPES.test(labelType)) {
    throw dataError(`label.sql: must give a BOOLEAN or a 0/1 number, got ${labelType}; a label of several classes is task: multiclass`);
  }
}

async function computeStats(connection: DuckDBConnection, loaded: LoadedSpec, staging: StagingArea): Promise<Record<string, ArtifactRef>> {
  const stats: Record<string, ArtifactRef> = {};
  for (const [name, sql] of Object.entries(loaded.spec.features.stats)) {
    await runSpecSql(`features.stats.${name}`, () => connection.run(`CREATE TABLE ${sqlIdent(name)} AS ${sql}`));
    const file = `stats-${name}.parquet`;
    await connection.run(`COPY ${sqlIdent(name)} TO ${sqlString(staging.file(file))} (FORMAT parquet)`);
    stats[name] = {
      uri: staging.uriOf(file),
      fingerprint: '',
      rows: Number(await scalar(connection, `SELECT count(*) FROM ${sqlIdent(name)}`)),
      bytes: fs.statSync(staging.file(file)).size,
      columns: await describeQuery(connection, sqlIdent(name)),
    };
  }
  return stats;
}

/** Output columns of features.sql that are model inputs; refuses text columns not declared as keys. */
async function classifyColumns(connection: DuckDBConnection, loaded: LoadedSpec): Promise<ColumnInfo[]> {
  const { spec } = loaded;
  await connection.run('CREATE OR REPLACE VIEW source AS SELECT * FROM train');
  const hash = hashSplitOf(spec);
  if (hash) {
    // The bucket of a row is computed from the keys in features.sql's output as in extract.query's: both must have them.
    const own = await runSpecSql('features.sql', () => describeQuery(connection, `(\n${spec.features.sql}\n)`));
    for (const key of hash.keys) {
      if (!own.some((c) => c.name === key)) throw dataError(`split.keys: \`${key}\` is not an output column of features.sql: select it through (a hash split reads each row's keys from its features; columns: ${own.map((c) => c.name).join(', ')})`);
    }
  }
  const columns = await runSpecSql('features.sql', () => describeQuery(connection, `(${featuresQuery(loaded)})`));
  const names = new Set(columns.map((c) => c.name));
  const time = spec.extract.time_column;
  if (!names.has(time)) {
    throw dataError(`features.sql: must select the time column \`${time}\` through (e.g. SELECT s.${time}, …): each window keeps only its own rows by it`);
  }
  for (const key of spec.features.keys) {
    if (!names.has(key)) throw dataError(`features.keys: \`${key}\` is not an output column of features.sql (columns: ${[...names].join(', ')})`);
  }
  if (!names.has(spec.label.name)) {
    throw dataError(`features.sql: must select the label column \`${spec.label.name}\` through from \`source\` (e.g. SELECT s.${spec.label.name}, …)`);
  }
  const categorical = spec.features.categorical ?? [];
  for (const name of categorical) {
    const column = columns.find((c) => c.name === name);
    if (!column) throw dataError(`features.categorical: \`${name}\` is not an output column of features.sql (columns: ${[...names].join(', ')})`);
    if (NESTED.test(column.type)) throw dataError(`features.categorical: column \`${name}\` is nested (${column.type}); a category is one value — select one of its fields`);
  }
  const features = columns.filter((c) => c.name !== spec.label.name && !spec.features.keys.includes(c.name) && c.name !== SPLIT_DAY);
  for (const column of features.filter((c) => !categorical.includes(c.name))) {
    if (NESTED.test(column.type)) {
      throw dataError(`features.sql: column \`${column.name}\` is nested (${column.type}); model inputs are numbers — select its fields (${column.name}.<field> AS ${column.name}_<field>), or list it under features.keys`);
    }
    if (!NUMERIC_TYPES.test(column.type)) {
      throw dataError(`features.sql: column \`${column.name}\` is ${column.type}; model inputs must be numeric — encode it, or list it under features.keys`);
    }
  }
  if (features.length === 0) throw dataError('features.sql: selects no numeric feature columns besides the keys and the label');
  return features;
}

/**
 * Writes one split's features: the label and feature SQL run over the split's rows plus its lookback and
 * horizon, and only the split's own rows whose label horizon lies within the data are kept.
 */
async function writeSplit(
  connection: DuckDBConnection,
  loaded: LoadedSpec,
  staging: StagingArea,
  split: 'train' | 'validate',
  featureColumns: ColumnInfo[],
  fingerprint: string,
  dataEnd: string | undefined,
  classes?: ClassCount[],
): Promise<{ ref: ArtifactRef; dropped: number }> {
  const { spec } = loaded;
  const window = spec.split[split];
  await createLabelledView(connection, loaded, 'source', window);
  const counts = await connection.runAndReadAll(
    `SELECT count(*), count(*) FILTER (WHERE ${horizonWithinData(loaded, dataEnd)}) FROM source WHERE ${windowPredicate(spec.extract.time_column, window)}`,
  );
  const [inWindow, sourceRows] = counts.getRowsJS()[0].map(Number);
  if (sourceRows === 0) {
    const why = inWindow > 0 ? `: all ${inWindow} rows have a label.horizon (${spec.label.horizon}) that reaches past the end of the data (${dataEnd})` : '';
    throw dataError(`split.${split}: no rows in ${window.from} .. ${window.to}${why}`);
  }
  if (classes && split === 'validate') {
    await checkValidationClasses(connection, 'source', `${windowPredicate(spec.extract.time_column, window)} AND ${horizonWithinData(loaded, dataEnd)}`, spec.label.name, spec.extract.time_column, classes);
  }
  const select = [
    ...spec.features.keys.map(sqlIdent),
    ...featureColumns.map((c) => `CAST(${sqlIdent(c.name)} AS FLOAT) AS ${sqlIdent(c.name)}`),
    `${classes ? classCodeSql(spec.label.name, classes) : `CAST(${sqlIdent(spec.label.name)} AS FLOAT)`} AS ${sqlIdent(spec.label.name)}`,
  ].join(', ');
  const file = `${split}.parquet`;
  await runSpecSql('features.sql', () =>
    // Sorted by every column (keys first): DuckDB's parallel plan leaves rows in an order that can differ from one
    // build to the next, and trainers (LightGBM's bin sampling, float sums) are only reproducible on the same order.
    connection.run(`COPY (SELECT ${select} FROM (${codedFeaturesSql(windowFeaturesSql(loaded, window, dataEnd), spec.features.categorical ?? [])}) ORDER BY ALL) TO ${sqlString(staging.file(file))} (FORMAT parquet, COMPRESSION zstd)`),
  );
  const parquet = `read_parquet(${sqlString(staging.file(file))})`;
  const rows = Number(await scalar(connection, `SELECT count(*) FROM ${parquet}`));
  if (rows !== sourceRows) {
    throw dataError(`features.sql: returned ${rows} rows for ${sourceRows} source rows in split.${split}; a join duplicates or drops rows`);
  }
  // A categorical feature is missing (NaN) where its category is not in the dictionary: a value, not an error.
  await checkFeatureValues(connection, parquet, featureColumns.filter((c) => !(spec.features.categorical ?? []).includes(c.name)), split);
  const ref = { uri: staging.uriOf(file), fingerprint, rows, bytes: fs.statSync(staging.file(file)).size, columns: await describeQuery(connection, parquet) };
  return { ref, dropped: inWindow - sourceRows };
}

/** Refuses NULL, NaN or infinite feature values, naming the column and how many rows. */
async function checkFeatureValues(connection: DuckDBConnection, parquet: string, featureColumns: ColumnInfo[], split: string): Promise<void> {
  const counts = featureColumns.map((c) => `count(*) FILTER (WHERE ${sqlIdent(c.name)} IS NULL OR NOT isfinite(${sqlIdent(c.name)}))`);
  const reader = await connection.runAndReadAll(`SELECT ${counts.join(', ')} FROM ${parquet}`);
  const row = reader.getRowsJS()[0];
  const bad = featureColumns.map((c, i) => ({ name: c.name, n: Number(row[i]) })).filter((c) => c.n > 0);
  if (bad.length > 0) {
    throw dataError(`features.sql: NULL, NaN or infinite values in split.${split}: ${bad.map((b) => `\`${b.name}\` (${b.n} rows)`).join(', ')}; fill them in the SQL (coalesce) or filter the rows`);
  }
}

/**
 * The training window's labels: never NULL; 0/1 with both classes (binary), or finite numbers that vary
 * (regression). Each refusal counts the rows and shows the first. Returns the labels' mean (a binary label's
 * positive rate).
 */
async function checkLabel(connection: DuckDBConnection, staging: StagingArea, train: ArtifactRef, label: string, task: Task, time: string): Promise<number> {
  const parquet = `read_parquet(${sqlString(staging.file(train.uri.split('/').pop() ?? ''))})`;
  const y = sqlIdent(label);
  const refuse = async (where: string, what: string): Promise<void> => {
    const first = await firstRow(connection, parquet, where, label, time);
    if (first) throw dataError(`label.sql: ${first.rows} training rows have ${what} (the first: ${first.value ?? 'NULL'} at ${time} ${first.at})`);
  };
  await refuse(`${y} IS NULL`, 'a NULL label; filter them in extract.query, or give them a value in label.sql');
  if (task === 'regression') await refuse(`NOT isfinite(${y})`, 'a NaN or infinite label');
  else await refuse(`${y} NOT IN (0, 1)`, 'a label that is not 0/1');
  const reader = await connection.runAndReadAll(`SELECT avg(${y})::DOUBLE, count(DISTINCT ${y}) FROM ${parquet}`);
  const [mean, distinct] = reader.getRowsJS()[0].map(Number);
  if (distinct < 2) {
    throw dataError(task === 'regression' ? `label.sql: every training label is ${mean}; a regression needs labels that vary` : `label.sql: the training window has only one class (every label is ${mean}); a classifier needs both`);
  }
  return mean;
}

/** A stored feature set by fingerprint, or a non-retryable error when the artifact store lacks it. */
export async function loadFeatureSet(store: ArtifactStore, fingerprint: string, owner: string): Promise<FeatureSet> {
  const manifest = await store.fetchIfPresent(`artifact:features/${fingerprint}/_manifest.json`);
  try {
    return JSON.parse(fs.readFileSync(manifest ?? '', 'utf8')) as FeatureSet;
  } catch {
    throw modelError(`the feature statistics ${owner} was trained with (artifact:features/${fingerprint}) are not in the artifact store at ${store.location}`);
  }
}
