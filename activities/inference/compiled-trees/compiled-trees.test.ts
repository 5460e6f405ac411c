import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { ModelRunner } from '../model-runner';
import { openScorer } from '../scorer';
import { readTreeEnsemble, type TreeTransform } from './tree-ensemble';

/** A deterministic generator (mulberry32), so a failure is reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WIDTH = 6;
/** Features 4 and 5 hold category codes: whole numbers, sometimes negative, fractional or NaN. */
const CATEGORICAL = [4, 5];

/**
 * A random forest as one ai.onnx.ml opset 5 TreeEnsemble in Sluice's export shape (Cast → TreeEnsemble →
 * transform → Cast → Reshape), using every node mode, NaN sent either way, member sets as bitsets and as chains,
 * and thresholds that float32 cannot represent (the comparisons must be made in double precision).
 */
function forestModel(seed: number, targets: number, transform: TreeTransform, trees: number): Uint8Array {
  const next = random(seed);
  const n = { feature: [] as number[], split: [] as number[], mode: [] as number[], t: [] as number[], tl: [] as number[], f: [] as number[], fl: [] as number[], miss: [] as number[] };
  const members: number[] = [];
  const leafTargets: number[] = [];
  const leafWeights: number[] = [];
  const roots: number[] = [];
  const leaf = (target: number): [number, number] => {
    leafWeights.push((next() - 0.5) * 2 + 1e-9 * next());
    leafTargets.push(target);
    return [leafWeights.length - 1, 1];
  };
  const node = (depth: number, target: number): [number, number] => {
    if (depth > 0 && (depth >= 6 || next() < 0.15)) return leaf(target);
    const at = n.feature.length;
    for (const column of Object.values(n)) column.push(0);
    const categorical = next() < 0.35;
    const feature = categorical ? CATEGORICAL[Math.floor(next() * 2)] : Math.floor(next() * 4);
    n.feature[at] = feature;
    if (categorical) {
      n.mode[at] = 6;
      const set = Array.from({ length: 1 + Math.floor(next() * 12) }, () => Math.floor(next() * 90));
      if (next() < 0.2) set.push(-1); // not a bitset: a chain of equality tests (ONNX Runtime takes whole numbers only)
      members.push(...new Set(set), Number.NaN);
    } else {
      n.mode[at] = Math.floor(next() * 6);
      n.split[at] = (next() - 0.5) * 4 + 1 / 3;
    }
    n.miss[at] = next() < 0.5 ? 1 : 0;
    [n.t[at], n.tl[at]] = node(depth + 1, target);
    [n.f[at], n.fl[at]] = node(depth + 1, target);
    return [at, 0];
  };
  for (let tree = 0; tree < trees; tree++) roots.push(node(0, tree % targets)[0]);

  const ints = (name: string, values: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
  const tensor = (name: string, type: onnx.TensorProto.DataType, bytes: Uint8Array, length: number) => ({
    name,
    type: onnx.AttributeProto.AttributeType.TENSOR,
    t: { dims: [length], dataType: type, rawData: bytes },
  });
  const doubles = (name: string, values: number[]) => tensor(name, onnx.TensorProto.DataType.DOUBLE, new Uint8Array(Float64Array.from(values).buffer), values.length);
  const ensemble: onnx.INodeProto = {
    opType: 'TreeEnsemble',
    domain: 'ai.onnx.ml',
    input: ['features_double'],
    output: ['raw'],
    attribute: [
      { name: 'n_targets', type: onnx.AttributeProto.AttributeType.INT, i: targets },
      { name: 'aggregate_function', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
      { name: 'post_transform', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
      ints('tree_roots', roots),
      ints('nodes_featureids', n.feature),
      doubles('nodes_splits', n.split),
      tensor('nodes_modes', onnx.TensorProto.DataType.UINT8, Uint8Array.from(n.mode), n.mode.length),
      ints('nodes_truenodeids', n.t),
      ints('nodes_trueleafs', n.tl),
      ints('nodes_falsenodeids', n.f),
      ints('nodes_falseleafs', n.fl),
      ints('nodes_missing_value_tracks_true', n.miss),
      ...(members.length > 0 ? [doubles('membership_values', members)] : []),
      ints('leaf_targetids', leafTargets),
      doubles('leaf_weights', leafWeights),
    ],
  };
  const output = targets === 1 ? 'probability' : 'probabilities';
  const float = onnx.TensorProto.DataType.FLOAT;
  const model: onnx.IModelProto = {
    irVersion: 10,
    opsetImport: [{ domain: '', version: 21 }, { domain: 'ai.onnx.ml', version: 5 }],
    graph: {
      name: 'forest',
      node: [
        { opType: 'Cast', input: ['input'], output: ['features_double'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnx.TensorProto.DataType.DOUBLE }] },
        ensemble,
        { opType: transform, input: ['raw'], output: ['transformed'], attribute: transform === 'Softmax' ? [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] : [] },
        { opType: 'Cast', input: ['transformed'], output: ['column'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: float }] },
        { opType: 'Reshape', input: ['column', 'shape'], output: [output] },
      ],
      initializer: [{ name: 'shape', dims: [targets === 1 ? 1 : 2], dataType: onnx.TensorProto.DataType.INT64, int64Data: targets === 1 ? [-1] : [-1, targets] }],
      input: [{ name: 'input', type: { tensorType: { elemType: float, shape: { dim: [{ dimParam: 'N' }, { dimValue: WIDTH }] } } } }],
      output: [{ name: output, type: { tensorType: { elemType: float, shape: { dim: targets === 1 ? [{ dimParam: 'N' }] : [{ dimParam: 'N' }, { dimValue: targets }] } } } }],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

/** Rows that hit every branch: values near the thresholds, NaN, and category codes in and out of the sets (whole numbers, as a category dictionary codes them). */
function rows(seed: number, count: number): Float32Array {
  const next = random(seed);
  const x = new Float32Array(count * WIDTH);
  for (let r = 0; r < count; r++) {
    for (let k = 0; k < WIDTH; k++) {
      const u = next();
      if (u < 0.08) x[r * WIDTH + k] = Number.NaN;
      else if (CATEGORICAL.includes(k)) x[r * WIDTH + k] = u < 0.12 ? -3 : u < 0.15 ? 120 : Math.floor(next() * 100);
      else x[r * WIDTH + k] = (next() - 0.5) * 4.4 + 1 / 3;
    }
  }
  return x;
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-compiled-'));
});
afterEach(() => {
  delete process.env.SLUICE_CC;
  delete process.env.SLUICE_COMPILED_TREES;
  fs.rmSync(dir, { recursive: true, force: true });
});

function modelFile(bytes: Uint8Array): string {
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, bytes);
  return file;
}

/** The largest difference between two scorers' outputs over every row, scored in DuckDB-sized chunks. */
function largestDifference(a: (x: Float32Array, n: number) => Float32Array, b: (x: Float32Array, n: number) => Float32Array, x: Float32Array): number {
  let largest = 0;
  const chunk = 2048;
  for (let r = 0; r * WIDTH < x.length; r += chunk) {
    const part = x.subarray(r * WIDTH, Math.min(x.length, (r + chunk) * WIDTH));
    const m = part.length / WIDTH;
    const [p, q] = [a(part, m), b(part, m)];
    expect(p.length).toBe(q.length);
    for (let i = 0; i < p.length; i++) largest = Math.max(largest, Math.abs(p[i] - q[i]));
  }
  return largest;
}

describe('compiled trees', () => {
  test.each([
    ['binary (sigmoid)', 1, 'Sigmoid' as const],
    ['multiclass (softmax)', 3, 'Softmax' as const],
    ['regression (identity)', 1, 'Identity' as const],
    ['poisson (exp)', 1, 'Exp' as const],
  ])('a %s forest scores as ONNX Runtime does on every row', async (_name, targets, transform) => {
    const file = modelFile(forestModel(7 + targets, targets, transform, 40));
    const { scorer, warning } = await openScorer(file, 'artifact:model', WIDTH, dir);
    expect(warning).toBeUndefined();
    expect(scorer.engine).toBe('compiled-trees');
    const ort = ModelRunner.open(file, 'artifact:model', WIDTH);
    const x = rows(3, 20_000);
    // Scores that are not all alike (a broken forest summing nothing would agree with itself only).
    const scores = scorer.outputs(x, 1000);
    expect(new Set(scores).size).toBeGreaterThan(100);
    expect(largestDifference((p, m) => scorer.outputs(p, m), (p, m) => ort.outputs(p, m), x)).toBeLessThanOrEqual(1e-6);
    ort.close();
  });

  test('the library is built once per model and compiler, then found in the cache', async () => {
    const file = modelFile(forestModel(11, 1, 'Sigmoid', 10));
    await openScorer(file, 'artifact:model', WIDTH, dir);
    const built = fs.readdirSync(path.join(dir, 'compiled-trees'), { recursive: true }).filter((f) => String(f).endsWith('forest.so'));
    expect(built).toHaveLength(1);
    const library = path.join(dir, 'compiled-trees', String(built[0]));
    const stamp = fs.statSync(library).mtimeMs;
    const cached = await openScorer(file, 'artifact:model', WIDTH, dir);
    expect(cached.scorer.engine).toBe('compiled-trees');
    expect(fs.statSync(library).mtimeMs).toBe(stamp);
  });

  test('without a working compiler, a tree model falls back to ONNX Runtime with a warning', async () => {
    const file = modelFile(forestModel(13, 1, 'Sigmoid', 10));
    const broken = path.join(dir, 'cc');
    fs.writeFileSync(broken, '#!/bin/sh\necho "cc: internal compiler error: out of memory" >&2\nexit 1\n', { mode: 0o755 });
    process.env.SLUICE_CC = broken;
    const { scorer, warning } = await openScorer(file, 'artifact:model', WIDTH, dir);
    expect(scorer.engine).toBe('onnxruntime');
    expect(warning).toMatch(/^artifact:model: the compiled tree library did not build or load \(.*\); scored with ONNX Runtime$/);
    const x = rows(5, 500);
    expect(scorer.score(x, 500)).toEqual(ModelRunner.open(file, 'artifact:model', WIDTH).score(x, 500));
  });

  test('with compiled trees off, or for a model that is not one TreeEnsemble, ONNX Runtime scores', async () => {
    process.env.SLUICE_COMPILED_TREES = 'off';
    const trees = modelFile(forestModel(17, 1, 'Sigmoid', 5));
    expect((await openScorer(trees, 'artifact:model', WIDTH, dir)).scorer.engine).toBe('onnxruntime');
    delete process.env.SLUICE_COMPILED_TREES;
    expect(readTreeEnsemble(new Uint8Array([1, 2, 3]))).toMatch(/^not an ONNX model/);
    const linear = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'linear', node: [{ opType: 'Sigmoid', input: ['input'], output: ['probability'] }] },
    }).finish();
    expect(readTreeEnsemble(linear)).toBe('a graph of Sigmoid, not one TreeEnsemble');
  });
});
