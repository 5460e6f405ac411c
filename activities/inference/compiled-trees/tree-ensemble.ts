import { onnx } from 'onnx-proto';

/** What a tree model's raw scores become, as the graph's node after the ensemble says. */
export type TreeTransform = 'Sigmoid' | 'Softmax' | 'Exp' | 'Identity';

/**
 * The forest of an ONNX-ML `TreeEnsemble` node (ai.onnx.ml opset 5), in its own arrays: node `i` splits on
 * `featureIds[i]` by `modes[i]` against `splits[i]` (or, for BRANCH_MEMBER, against its set of `membership`),
 * its true and false children are nodes or, where `trueLeafs`/`falseLeafs` say so, leaves; leaf `j` adds
 * `leafWeights[j]` to target `leafTargets[j]`.
 */
export interface TreeEnsemble {
  width: number;
  targets: number;
  transform: TreeTransform;
  /** The graph's output, e.g. `probability` [N] or `probabilities` [N, classes]. */
  output: string;
  roots: number[];
  featureIds: number[];
  splits: Float64Array;
  modes: Uint8Array;
  trueIds: number[];
  trueLeafs: number[];
  falseIds: number[];
  falseLeafs: number[];
  missingTrue: number[];
  /** Each BRANCH_MEMBER node's values in node order, every set ended by a NaN. */
  membership: Float64Array;
  leafTargets: number[];
  leafWeights: Float64Array;
}

/** The graph Sluice's tree exports have (workers/python/sluice_python/tree_ensemble.py), node by node. */
const SHAPE = ['Cast', 'TreeEnsemble', 'Cast', 'Reshape'];
const TRANSFORMS: readonly string[] = ['Sigmoid', 'Softmax', 'Exp', 'Identity'];

/**
 * The forest of an ONNX model that is one `TreeEnsemble` between casts to and from double (Sluice's LightGBM
 * export, binary, multiclass or regression), or why the model is not one: any other graph is scored by ONNX Runtime.
 */
export function readTreeEnsemble(bytes: Uint8Array): TreeEnsemble | string {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    return `not an ONNX model (${(err as Error).message})`;
  }
  const nodes = model.graph?.node ?? [];
  const ops = nodes.map((n) => n.opType ?? '');
  if (ops.length !== 5 || !TRANSFORMS.includes(ops[2]) || ops.filter((_, i) => i !== 2).join() !== SHAPE.join()) return `a graph of ${ops.join(', ')}, not one TreeEnsemble`;
  const ensemble = nodes[1];
  if (ensemble.domain !== 'ai.onnx.ml') return 'a TreeEnsemble outside ai.onnx.ml';
  const attrs = new Map((ensemble.attribute ?? []).map((a) => [a.name ?? '', a]));
  const int = (name: string, fallback: number) => (attrs.has(name) ? Number(attrs.get(name)?.i ?? 0) : fallback);
  const ints = (name: string) => (attrs.get(name)?.ints ?? []).map(Number);
  if (int('aggregate_function', 1) !== 1) return 'an aggregate other than SUM';
  if (int('post_transform', 0) !== 0) return 'a post transform inside the TreeEnsemble';
  const input = model.graph?.input?.[0];
  const width = Number(input?.type?.tensorType?.shape?.dim?.[1]?.dimValue ?? 0);
  if (!(width > 0)) return 'an input of unknown width';
  const output = model.graph?.output?.[0]?.name ?? '';
  const modes = tensorBytes(attrs.get('nodes_modes')?.t);
  const forest: TreeEnsemble = {
    width,
    targets: int('n_targets', 1),
    transform: ops[2] as TreeTransform,
    output,
    roots: ints('tree_roots'),
    featureIds: ints('nodes_featureids'),
    splits: tensorDoubles(attrs.get('nodes_splits')?.t),
    modes: modes ?? new Uint8Array(),
    trueIds: ints('nodes_truenodeids'),
    trueLeafs: ints('nodes_trueleafs'),
    falseIds: ints('nodes_falsenodeids'),
    falseLeafs: ints('nodes_falseleafs'),
    missingTrue: ints('nodes_missing_value_tracks_true'),
    membership: tensorDoubles(attrs.get('membership_values')?.t),
    leafTargets: ints('leaf_targetids'),
    leafWeights: tensorDoubles(attrs.get('leaf_weights')?.t),
  };
  const n = forest.featureIds.length;
  const sized = [forest.splits.length, forest.modes.length, forest.trueIds.length, forest.falseIds.length, forest.trueLeafs.length, forest.falseLeafs.length];
  if (n === 0 || sized.some((s) => s !== n)) return 'node attributes of different lengths';
  if (forest.leafTargets.length !== forest.leafWeights.length) return 'leaf attributes of different lengths';
  if (forest.missingTrue.length !== 0 && forest.missingTrue.length !== n) return 'node attributes of different lengths';
  if (forest.featureIds.some((f) => f < 0 || f >= width)) return 'a split on a feature outside the input';
  return forest;
}

/** A tensor's values as doubles, from `raw_data` (little-endian) or its typed field. */
function tensorDoubles(tensor: onnx.ITensorProto | null | undefined): Float64Array {
  if (!tensor) return new Float64Array();
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    if (tensor.dataType === onnx.TensorProto.DataType.DOUBLE) return new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    if (tensor.dataType === onnx.TensorProto.DataType.FLOAT) return Float64Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)));
    return new Float64Array();
  }
  return Float64Array.from(tensor.doubleData?.length ? tensor.doubleData : (tensor.floatData ?? []));
}

function tensorBytes(tensor: onnx.ITensorProto | null | undefined): Uint8Array | undefined {
  if (!tensor) return undefined;
  if (tensor.rawData && tensor.rawData.length > 0) return Uint8Array.from(tensor.rawData);
  return Uint8Array.from((tensor.int32Data ?? []).map(Number));
}
