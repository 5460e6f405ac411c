import { sqlIdent } from '../../sql/duckdb';
import type { FeatureSet } from '../../../contracts/artifacts';

/** Categories per categorical feature the logistic trainer gives an indicator of their own, when `one_hot_top` is left out. */
export const DEFAULT_ONE_HOT_TOP = 20;

/**
 * One column of the logistic trainer's design matrix: a numeric feature as itself, or the indicator of one
 * category of a categorical feature (`code`: 1 where the feature's code is this one, else 0: the rarer
 * categories, and those training never saw, are the baseline).
 */
export interface DesignColumn {
  /** The model input (feature) it reads, by position. */
  input: number;
  code?: number;
  /** The SQL that reads it from the feature set, as FLOAT. */
  sql: string;
}

/** The design of a feature set: its features in order, each categorical one as indicators of its `top` most frequent categories. */
export function logisticDesign(features: FeatureSet, top = DEFAULT_ONE_HOT_TOP): DesignColumn[] {
  const categorical = new Map((features.categorical ?? []).map((c) => [c.name, c]));
  return features.featureColumns.flatMap(({ name }, input): DesignColumn[] => {
    const column = categorical.get(name);
    if (!column) return [{ input, sql: `CAST(${sqlIdent(name)} AS FLOAT)` }];
    // NaN (a category training never saw) equals no code: every indicator 0.
    return Array.from({ length: Math.min(column.codes, top) }, (_, code) => ({ input, code, sql: `CAST(${sqlIdent(name)} = ${code} AS FLOAT)` }));
  });
}

/** The design's columns' names (`origin` or `origin=3`) and SQL, as the matrix readers and chunk sums take them. */
export function designColumns(features: FeatureSet, design: readonly DesignColumn[]): { features: string[]; expressions?: string[] } {
  const names = design.map((d) => features.featureColumns[d.input].name + (d.code === undefined ? '' : `=${d.code}`));
  return plainDesign(design) ? { features: names } : { features: names, expressions: design.map((d) => d.sql) };
}

/** True when the design is the features themselves (no categorical feature). */
export function plainDesign(design: readonly DesignColumn[]): boolean {
  return design.every((d, i) => d.code === undefined && d.input === i);
}
