import fs from 'node:fs';
import path from 'node:path';
import { compiledForest, loadForest, type ForestLibrary } from './compiled-trees/compile';
import { readTreeEnsemble } from './compiled-trees/tree-ensemble';
import { ModelRunner } from './model-runner';
import type { RowScorer } from './row-scorer';

/** A tree model compiled to native code: scores equal ONNX Runtime's TreeEnsemble, comparison for comparison, in double precision. */
class CompiledTrees implements RowScorer {
  readonly engine = 'compiled-trees';
  constructor(private readonly library: ForestLibrary) {}

  get width(): number {
    return this.library.width;
  }

  score(x: Float32Array, rows: number): Float32Array {
    if (this.library.targets !== 1) throw new Error(`a model of ${this.library.targets} outputs has no single score`);
    return this.outputs(x, rows);
  }

  outputs(x: Float32Array, rows: number): Float32Array {
    const out = new Float32Array(rows * this.library.targets);
    this.library.score(x, rows, out);
    return out;
  }

  close(): void {
    // The library stays loaded: it is small, and the next shard of the same model uses it again.
  }
}

export interface OpenedScorer {
  scorer: RowScorer;
  /** Why a tree model is scored by ONNX Runtime after all (its library did not build or load). */
  warning?: string;
}

/**
 * Compiled trees are on unless `SLUICE_COMPILED_TREES=off`. They need a C compiler (`SLUICE_CC`, default `cc`);
 * without one, a tree model falls back to ONNX Runtime with a warning.
 */
export function compiledTreesEnabled(): boolean {
  return (process.env.SLUICE_COMPILED_TREES ?? 'on').toLowerCase() !== 'off';
}

/**
 * The scorer of the model in `file` (as wide as `width` features): a tree model's compiled library, built into
 * `cacheDir` once per model, compiler and machine, or ONNX Runtime — for every other model, with compiled trees
 * off, and for a tree model whose library fails to build or load (the warning says why). The ONNX file stays the
 * model: the library is derived from it.
 */
export async function openScorer(file: string, uri: string, width: number, cacheDir: string): Promise<OpenedScorer> {
  if (!compiledTreesEnabled()) return { scorer: ModelRunner.open(file, uri, width) };
  const bytes = fs.readFileSync(file);
  const forest = readTreeEnsemble(bytes);
  if (typeof forest === 'string' || forest.width !== width) return { scorer: ModelRunner.open(file, uri, width) };
  try {
    return { scorer: new CompiledTrees(loadForest(await compiledForest(forest, bytes, path.join(cacheDir, 'compiled-trees')), forest)) };
  } catch (err) {
    const reason = (err as { stderr?: string }).stderr?.split('\n').find((l) => l.trim()) ?? (err as Error).message.split('\n')[0];
    return { scorer: ModelRunner.open(file, uri, width), warning: `${uri}: the compiled tree library did not build or load (${reason}); scored with ONNX Runtime` };
  }
}
