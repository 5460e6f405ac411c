import { onnx } from 'onnx-proto';
import { GraphBuilder } from '../../../onnx/graph-builder';

/**
 * Graphs for the streaming trainer: UNNORMALIZED sums over a batch of rows (any row count), with no
 * penalty, so batches and chunks add up and only the driver divides by the total row count.
 * Inputs are float32 (the standardized design matrix with its bias column, as readFeatureMatrix
 * builds it, and the labels); everything after the inputs is computed in float64 and the sums come
 * out as float64, so a sum over a batch of 64K rows does not carry float32 rounding into the driver.
 */

const DOUBLE = onnx.TensorProto.DataType.DOUBLE;

/** softplus(z) = max(z, 0) + log(1 + exp(-|z|)), stable for any z: the same expression as the in-memory trainer's graph. */
function softplus(g: GraphBuilder, z: string): string {
  const expNegAbs = g.op('Exp', [g.op('Neg', [g.op('Abs', [z])])]);
  return g.op('Add', [g.op('Relu', [z]), g.op('Log', [g.op('Add', [expNegAbs, 'one'])])]);
}

/** Per-row log loss of logits z against labels y: softplus(z) - y z (any shape that broadcasts). */
function logLoss(g: GraphBuilder, z: string, y: string): string {
  return g.op('Sub', [softplus(g, z), g.op('Mul', [y, z])]);
}

function toDouble(g: GraphBuilder, name: string): string {
  return g.op('Cast', [name], { to: { i: DOUBLE } });
}

/** The float32 inputs x ['rows', K] and y ['rows', 1], cast to float64, and the constant 1 in float64. */
function doubleInputs(g: GraphBuilder, width: number): { x: string; y: string } {
  const x = toDouble(g, g.input('x', ['rows', width]));
  const y = toDouble(g, g.input('y', ['rows', 1]));
  g.op('Cast', [g.constant('one_float', [], [1])], { to: { i: DOUBLE } }, 'one');
  return { x, y };
}

/**
 * At one parameter vector theta [K,1]: `lossSum` [] = Σ log loss, `gradient` [K,1] = Xᵀ(p − y) and
 * `hessian` [K,K] = Xᵀ diag(p(1 − p)) X, summed over the batch's rows.
 */
export function thetaSumsGraph(width: number): Uint8Array {
  const g = new GraphBuilder('logistic_theta_sums');
  const { x, y } = doubleInputs(g, width);
  const theta = toDouble(g, g.input('theta', [width, 1]));
  g.constantInt64('all_axes', [0, 1]);
  const z = g.op('MatMul', [x, theta]);
  const p = g.op('Sigmoid', [z]);
  g.op('ReduceSum', [logLoss(g, z, y), 'all_axes'], { keepdims: { i: 0 } }, 'lossSum');
  g.op('MatMul', [g.op('Transpose', [x]), g.op('Sub', [p, y])], {}, 'gradient');
  const curvature = g.op('Mul', [p, g.op('Sub', ['one', p])]);
  g.op('MatMul', [g.op('Transpose', [x]), g.op('Mul', [x, curvature])], {}, 'hessian');
  g.output('lossSum', []);
  g.output('gradient', [width, 1]);
  g.output('hessian', [width, width]);
  return asDoubleOutputs(g.toBytes());
}

/**
 * Σ log loss over the batch's rows at each of T parameter vectors at once: `thetas` [K, T] (one
 * column per line-search candidate) → `lossSums` [1, T]. One MatMul evaluates every candidate.
 */
export function trialLossGraph(width: number): Uint8Array {
  const g = new GraphBuilder('logistic_trial_loss_sums');
  const { x, y } = doubleInputs(g, width);
  const thetas = toDouble(g, g.input('thetas', [width, 'trials']));
  g.constantInt64('rows_axis', [0]);
  const z = g.op('MatMul', [x, thetas]);
  g.op('ReduceSum', [logLoss(g, z, y), 'rows_axis'], { keepdims: { i: 1 } }, 'lossSums');
  g.output('lossSums', [1, 'trials']);
  return asDoubleOutputs(g.toBytes());
}

/**
 * The normal equations' sums over the batch's rows, for the linear regression trainer: `xtx` [K,K] = XᵀX,
 * `xty` [K,1] = Xᵀy and `yy` [] = Σ y² (with them, any θ's squared error is θᵀXᵀXθ − 2θᵀXᵀy + Σy²).
 */
export function normalSumsGraph(width: number): Uint8Array {
  const g = new GraphBuilder('linear_normal_sums');
  const { x, y } = doubleInputs(g, width);
  g.constantInt64('all_axes', [0, 1]);
  const xt = g.op('Transpose', [x]);
  g.op('MatMul', [xt, x], {}, 'xtx');
  g.op('MatMul', [xt, y], {}, 'xty');
  g.op('ReduceSum', [g.op('Mul', [y, y]), 'all_axes'], { keepdims: { i: 0 } }, 'yy');
  g.output('xtx', [width, width]);
  g.output('xty', [width, 1]);
  g.output('yy', []);
  return asDoubleOutputs(g.toBytes());
}

/** GraphBuilder declares every graph output as float32; these graphs' outputs are float64. */
function asDoubleOutputs(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  for (const output of model.graph?.output ?? []) {
    const tensorType = output.type?.tensorType;
    if (!tensorType) throw new Error(`graph output ${output.name} has no tensor type`);
    tensorType.elemType = DOUBLE;
  }
  return onnx.ModelProto.encode(model).finish();
}
