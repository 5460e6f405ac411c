import type { TreeEnsemble } from './tree-ensemble';

/** The C a forest compiles from: its trees in `parts` (compiled apart, in parallel) and `main`, which calls them. */
export interface ForestSource {
  parts: string[];
  main: string;
}

/** Rows one pass over the trees scores: the rows' doubles and sums stay in the first cache levels, each tree's code in the instruction cache. */
const BLOCK_BYTES = 48 * 1024;
/** Tree nodes per part file: small enough that a compiler's time stays near-linear and parts build in parallel. */
const NODES_PER_PART = 2_500;

/** ONNX-ML TreeEnsemble node modes, by number. */
const COMPARISONS: Record<number, string> = { 0: '<=', 1: '<', 2: '>=', 3: '>', 4: '==', 5: '!=' };
const BRANCH_MEMBER = 6;
/** A set of categories becomes a bitset when every one is a whole number below this; otherwise a chain of equality tests. */
const BITSET_LIMIT = 1 << 16;

/** A double as a C literal that reads back to the same double. */
function literal(value: number): string {
  if (Number.isNaN(value)) return 'NAN';
  if (!Number.isFinite(value)) return value > 0 ? 'INFINITY' : '-INFINITY';
  const text = value.toPrecision(17);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/**
 * C source that scores as ONNX Runtime's TreeEnsemble does, comparison for comparison in double precision:
 * `x <= split` (or the node's other mode) goes to the true child, a NaN goes where `missing_value_tracks_true`
 * sends it (else it fails every comparison but `!=`), a BRANCH_MEMBER node tests its set, and the leaves' weights
 * are summed per target in tree order, then transformed (sigmoid, softmax, exp) and rounded to float once.
 * Every tree is nested `if`s with its splits as constants, run over a block of rows before the next tree.
 */
export function forestSource(forest: TreeEnsemble): ForestSource {
  const { width, targets } = forest;
  const membership = memberSets(forest);
  const block = Math.max(1, Math.min(256, Math.floor(BLOCK_BYTES / (8 * (width + targets)))));
  const header = ['#include <math.h>', '#include <stdint.h>', '#include <string.h>', `#define W ${width}`, `#define T ${targets}`, ''].join('\n');

  const parts: string[] = [];
  let body: string[] = [];
  let calls: string[] = [];
  let tables: string[] = [];
  let nodesInPart = 0;
  const flush = () => {
    if (body.length === 0) return;
    const index = parts.length;
    parts.push(
      [
        header,
        '/* Whether v, truncated to a whole number as LightGBM and ONNX Runtime do, is in the set; NaN never is. */',
        'static inline int member(double v, const uint64_t *bits, int n) {',
        '  if (!(v > -1.0 && v < (double)n)) return 0;',
        '  int k = (int)v;',
        '  return (bits[k >> 6] >> (k & 63)) & 1;',
        '}',
        ...tables,
        ...body,
        `void sluice_part_${index}(const double *restrict x, double *restrict s, int m) {`,
        ...calls,
        '}',
        '',
      ].join('\n'),
    );
    body = [];
    calls = [];
    tables = [];
    nodesInPart = 0;
  };

  forest.roots.forEach((root, tree) => {
    const lines: string[] = [];
    let nodes = 0;
    const emit = (id: number, leaf: boolean, indent: string): void => {
      if (leaf) {
        lines.push(`${indent}o[${forest.leafTargets[id]}] += ${literal(forest.leafWeights[id])};`);
        return;
      }
      nodes++;
      const value = `v[${forest.featureIds[id]}]`;
      let test: string;
      if (forest.modes[id] === BRANCH_MEMBER) {
        const set = membership.get(id) ?? [];
        if (set.length > 0 && set.every((c) => Number.isInteger(c) && c >= 0 && c < BITSET_LIMIT)) {
          const size = Math.max(...set) + 1;
          const words = new Array<bigint>(Math.ceil(size / 64)).fill(0n);
          for (const c of set) words[c >> 6] |= 1n << BigInt(c & 63);
          const name = `set_${id}`;
          tables.push(`static const uint64_t ${name}[] = {${words.map((w) => `0x${w.toString(16)}ULL`).join(', ')}};`);
          test = `member(${value}, ${name}, ${size})`;
        } else {
          const whole = `(${value} > -2147483649.0 && ${value} < 2147483648.0 ? (long)${value} : 2147483648L)`;
          test = set.length > 0 ? set.map((c) => `${whole} == ${Math.trunc(c)}L`).join(' || ') : '0';
        }
      } else {
        const op = COMPARISONS[forest.modes[id]];
        if (!op) throw new Error(`TreeEnsemble node mode ${forest.modes[id]}`);
        test = `${value} ${op} ${literal(forest.splits[id])}`;
      }
      if (forest.missingTrue[id]) test = `isnan(${value}) || ${test}`;
      lines.push(`${indent}if (${test}) {`);
      emit(forest.trueIds[id], forest.trueLeafs[id] === 1, `${indent}  `);
      lines.push(`${indent}} else {`);
      emit(forest.falseIds[id], forest.falseLeafs[id] === 1, `${indent}  `);
      lines.push(`${indent}}`);
    };
    emit(root, false, '    ');
    body.push(
      `static void tree_${tree}(const double *restrict x, double *restrict s, int m) {`,
      '  for (int r = 0; r < m; r++) {',
      '    const double *v = x + r * W;',
      '    double *o = s + r * T;',
      ...lines,
      '  }',
      '}',
    );
    calls.push(`  tree_${tree}(x, s, m);`);
    nodesInPart += nodes;
    if (nodesInPart >= NODES_PER_PART) flush();
  });
  flush();

  const transform = {
    Sigmoid: ['    for (int t = 0; t < T; t++) y[t] = (float)(1.0 / (1.0 + exp(-z[t])));'],
    Exp: ['    for (int t = 0; t < T; t++) y[t] = (float)exp(z[t]);'],
    Identity: ['    for (int t = 0; t < T; t++) y[t] = (float)z[t];'],
    Softmax: [
      '    double top = z[0], sum = 0.0;',
      '    for (int t = 1; t < T; t++) if (z[t] > top) top = z[t];',
      '    double e[T];',
      '    for (int t = 0; t < T; t++) sum += (e[t] = exp(z[t] - top));',
      '    for (int t = 0; t < T; t++) y[t] = (float)(e[t] / sum);',
    ],
  }[forest.transform];
  const main = [
    header,
    `#define BLOCK ${block}`,
    ...parts.map((_, i) => `void sluice_part_${i}(const double *restrict x, double *restrict s, int m);`),
    'int sluice_width(void) { return W; }',
    'int sluice_targets(void) { return T; }',
    '/* Scores n rows of W floats (row-major) into n rows of T floats. */',
    'void sluice_score(const float *in, int64_t n, float *out) {',
    '  double x[BLOCK * W], s[BLOCK * T];',
    '  for (int64_t b = 0; b < n; b += BLOCK) {',
    '    int m = n - b < BLOCK ? (int)(n - b) : BLOCK;',
    '    for (int i = 0; i < m * W; i++) x[i] = (double)in[b * W + i];',
    '    memset(s, 0, sizeof(double) * (size_t)(m * T));',
    ...parts.map((_, i) => `    sluice_part_${i}(x, s, m);`),
    '    for (int r = 0; r < m; r++) {',
    '      const double *z = s + r * T;',
    '      float *y = out + (b + r) * T;',
    ...transform.map((l) => `  ${l}`),
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
  return { parts, main };
}

/** Each BRANCH_MEMBER node's set of values: the NaN-delimited runs of `membership`, in node order. */
function memberSets(forest: TreeEnsemble): Map<number, number[]> {
  const sets = new Map<number, number[]>();
  let at = 0;
  forest.modes.forEach((mode, id) => {
    if (mode !== BRANCH_MEMBER) return;
    const set: number[] = [];
    while (at < forest.membership.length && !Number.isNaN(forest.membership[at])) set.push(forest.membership[at++]);
    at++;
    sets.set(id, set);
  });
  return sets;
}
