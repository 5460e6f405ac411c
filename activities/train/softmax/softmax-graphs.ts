import { GraphBuilder } from '../../onnx/graph-builder';

/**
 * The multinomial log loss and its gradient over a chunk of rows, for L-BFGS: `x` [N,P] the standardized design
 * with a trailing bias column, `y` [N,K] the one-hot classes, `theta` [P,K]. Outputs `loss` (Σ over the rows of
 * logsumexp(z) − z_class, z = xθ, the max subtracted before exp) and `gradient` [P,K] = xᵀ(softmax(z) − y),
 * both unnormalized, so chunks' sums add up in float64.
 */
export function softmaxLossGraph(width: number, classes: number): Uint8Array {
  const g = new GraphBuilder('softmax_loss');
  const x = g.input('x', ['rows', width]);
  const y = g.input('y', ['rows', classes]);
  const theta = g.input('theta', [width, classes]);
  const axis = g.constantInt64('class_axis', [1]);
  const z = g.op('MatMul', [x, theta]);
  const shifted = g.op('Sub', [z, g.op('ReduceMax', [z], { axes: { ints: [1] }, keepdims: { i: 1 } })]);
  const exp = g.op('Exp', [shifted]);
  const total = g.op('ReduceSum', [exp, axis], { keepdims: { i: 1 } });
  const logTotal = g.op('Log', [total]);
  const perRow = g.op('Sub', [logTotal, g.op('ReduceSum', [g.op('Mul', [y, shifted]), axis], { keepdims: { i: 1 } })]);
  g.op('ReduceSum', [perRow], { keepdims: { i: 0 } }, 'loss');
  const residual = g.op('Sub', [g.op('Div', [exp, total]), y]);
  g.op('Gemm', [x, residual], { transA: { i: 1 } }, 'gradient');
  g.output('loss', []);
  g.output('gradient', [width, classes]);
  return g.toBytes();
}
