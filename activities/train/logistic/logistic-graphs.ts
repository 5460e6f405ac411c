import { GraphBuilder } from '../../onnx/graph-builder';
import { plainDesign, type DesignColumn } from './design';

/**
 * The design matrix [batch, D] from the model's input [batch, F]: each design column is an input column
 * (Gather), or the indicator that a categorical input equals a code (Equal, Cast to float; NaN equals none).
 * Runs of numeric columns are gathered at once.
 */
function designMatrix(g: GraphBuilder, input: string, design: DesignColumn[]): string {
  const parts: string[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    parts.push(g.op('Gather', [input, g.constantInt64(`columns_${parts.length}`, run)], { axis: { i: 1 } }));
    run = [];
  };
  for (const [i, column] of design.entries()) {
    if (column.code === undefined) {
      run.push(column.input);
      continue;
    }
    flush();
    const value = g.op('Gather', [input, g.constantInt64(`column_${i}`, [column.input])], { axis: { i: 1 } });
    parts.push(g.op('Cast', [g.op('Equal', [value, g.constant(`code_${i}`, [1], [column.code])])], { to: { i: 1 } }));
  }
  flush();
  return g.op('Concat', parts, { axis: { i: 1 } });
}

/**
 * Graphs for logistic regression. Training graphs take the design matrix already standardized with a
 * trailing bias column (K = features + 1) and the parameter vector theta [K,1] (weights, then intercept).
 */

/** softplus(z) = max(z, 0) + log(1 + exp(-|z|)), stable for any z. */
function softplus(g: GraphBuilder, z: string): string {
  const expNegAbs = g.op('Exp', [g.op('Neg', [g.op('Abs', [z])])]);
  return g.op('Add', [g.op('Relu', [z]), g.op('Log', [g.op('Add', [expNegAbs, 'one'])])]);
}

/** Mean log loss of rows given logits z and labels y: mean(softplus(z) - y z). */
function meanLogLoss(g: GraphBuilder, z: string, y: string): string {
  return g.op('ReduceMean', [g.op('Sub', [softplus(g, z), g.op('Mul', [y, z])])], { axes: { ints: [0, 1] }, keepdims: { i: 0 } });
}

/**
 * One Newton step's quantities for L2-penalized logistic regression on N rows:
 * `loss` (mean log loss + ½ Σ l2·θ²), `gradient` [K,1] and `hessian` [K,K], all computed in the graph.
 * `l2` holds the penalty per parameter (0 for the intercept).
 */
export function newtonStepGraph(rows: number, width: number, l2: number[]): Uint8Array {
  const g = new GraphBuilder('logistic_newton_step');
  const x = g.input('x', [rows, width]);
  const y = g.input('y', [rows, 1]);
  const theta = g.input('theta', [width, 1]);
  g.constant('one', [], [1]);
  g.constant('half', [], [0.5]);
  g.constant('l2', [width, 1], l2);
  g.constant('l2_diag', [width, width], Array.from({ length: width * width }, (_, i) => (i % (width + 1) === 0 ? l2[i / (width + 1)] : 0)));
  const z = g.op('MatMul', [x, theta]);
  const p = g.op('Sigmoid', [z]);
  const l2Theta = g.op('Mul', ['l2', theta]);
  const penalty = g.op('Mul', ['half', g.op('Gemm', [theta, l2Theta], { transA: { i: 1 } })]);
  g.op('Add', [meanLogLoss(g, z, y), penalty], {}, 'loss');
  const residual = g.op('Sub', [p, y]);
  g.op('Gemm', [x, residual, l2Theta], { transA: { i: 1 }, alpha: { f: 1 / rows } }, 'gradient');
  const curvature = g.op('Mul', [p, g.op('Sub', ['one', p])]);
  g.op('Gemm', [x, g.op('Mul', [x, curvature]), 'l2_diag'], { transA: { i: 1 }, alpha: { f: 1 / rows } }, 'hessian');
  g.output('loss', [1, 1]);
  g.output('gradient', [width, 1]);
  g.output('hessian', [width, width]);
  return g.toBytes();
}

/** Forward pass on any number of rows: `probability` [N,1] and the mean log loss `loss` (no penalty). */
export function forwardGraph(width: number): Uint8Array {
  const g = new GraphBuilder('logistic_forward');
  const x = g.input('x', ['rows', width]);
  const y = g.input('y', ['rows', 1]);
  const theta = g.input('theta', [width, 1]);
  g.constant('one', [], [1]);
  const z = g.op('MatMul', [x, theta]);
  g.op('Sigmoid', [z], {}, 'probability');
  g.op('Identity', [meanLogLoss(g, z, y)], {}, 'loss');
  g.output('probability', ['rows', 1]);
  g.output('loss', []);
  return g.toBytes();
}

export interface ScoringModelParts {
  featureNames: string[];
  /** The columns the weights apply to (absent: the features themselves); a categorical feature's are indicators of its codes. */
  design?: DesignColumn[];
  mean: number[];
  std: number[];
  weights: number[];
  intercept: number;
  metadata: Record<string, string>;
}

/**
 * The exported model: raw features [batch, F] → `probability` [batch]. Standardization is inside the
 * graph, so any ONNX runtime scores raw feature values with nothing else.
 */
export function scoringModel(parts: ScoringModelParts): Uint8Array {
  const g = new GraphBuilder('sluice_logistic_regression');
  const input = g.input('features', ['batch', parts.featureNames.length]);
  const design = parts.design && !plainDesign(parts.design) ? parts.design : undefined;
  const x = design ? designMatrix(g, input, design) : input;
  const f = design ? design.length : parts.featureNames.length;
  g.constant('mean', [1, f], parts.mean);
  g.constant('std', [1, f], parts.std);
  g.constant('weights', [f, 1], parts.weights);
  g.constant('intercept', [1], [parts.intercept]);
  g.constantInt64('flat', [-1]);
  const standardized = g.op('Div', [g.op('Sub', [x, 'mean']), 'std']);
  const logit = g.op('Add', [g.op('MatMul', [standardized, 'weights']), 'intercept']);
  g.op('Reshape', [g.op('Sigmoid', [logit]), 'flat'], {}, 'probability');
  g.output('probability', ['batch']);
  return g.toBytes(parts.metadata);
}
