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

/** How a shard's threads score: with a compiled tree library (built already), or with ONNX Runtime. */
export type ScorerChoice = { engine: 'compiled-trees'; library: string } | { engine: 'onnxruntime' };

/**
 * Compiled trees are on unless `SLUICE_COMPILED_TREES=off`. They need a C compiler (`SLUICE_CC`, default `cc`);
 * without one, a tree model falls back to ONNX Runtime with a warning.
 */
export function compiledTreesEnabled(): boolean {
  return (process.env.SLUICE_COMPILED_TREES ?? 'on').toLowerCase() !== 'off';
}

/**
 * How the model in `file` (as wide as `width` features) is scored: a tree model by its compiled library, built
 * into `cacheDir` once per model, compiler and machine; every other model, any model with compiled trees off, and
 * a tree model whose library fails to build or load (`warning` says why) by ONNX Runtime. The ONNX file stays the
 * model: the library is derived from it.
 */
export async function chooseScorer(file: string, uri: string, width: number, cacheDir: string): Promise<{ choice: ScorerChoice; warning?: string }> {
  if (!compiledTreesEnabled()) return { choice: { engine: 'onnxruntime' } };
  const bytes = fs.readFileSync(file);
  const forest = readTreeEnsemble(bytes);
  if (typeof forest === 'string' || forest.width !== width) return { choice: { engine: 'onnxruntime' } };
  try {
    const library = await compiledForest(forest, bytes, path.join(cacheDir, 'compiled-trees'));
    loadForest(library, forest);
    return { choice: { engine: 'compiled-trees', library } };
  } catch (err) {
    const reason = (err as { stderr?: string }).stderr?.split('\n').find((l) => l.trim()) ?? (err as Error).message.split('\n')[0];
    return { choice: { engine: 'onnxruntime' }, warning: `${uri}: the compiled tree library did not build or load (${reason}); scored with ONNX Runtime` };
  }
}

/** A scorer as `choice` says; `threads` bounds ONNX Runtime's (a compiled library scores on the calling thread). */
export function openChosen(choice: ScorerChoice, file: string, uri: string, width: number, threads?: number): RowScorer {
  if (choice.engine === 'onnxruntime') return ModelRunner.open(file, uri, width, threads);
  const forest = readTreeEnsemble(fs.readFileSync(file));
  if (typeof forest === 'string') throw new Error(`${uri}: ${forest}`);
  return new CompiledTrees(loadForest(choice.library, forest));
}

/** {@link chooseScorer}, then the scorer it chose. */
export async function openScorer(file: string, uri: string, width: number, cacheDir: string): Promise<{ scorer: RowScorer; warning?: string }> {
  const { choice, warning } = await chooseScorer(file, uri, width, cacheDir);
  return { scorer: openChosen(choice, file, uri, width), ...(warning ? { warning } : {}) };
}
