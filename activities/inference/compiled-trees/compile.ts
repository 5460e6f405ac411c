import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import koffi from 'koffi';
import { forestSource } from './c-source';
import type { TreeEnsemble } from './tree-ensemble';

const run = promisify(execFile);

/** Bumped when the generated C for the same model changes: the cache key includes it. */
const GENERATOR_VERSION = 2;

/**
 * Compiler flags. On a 300-tree × 63-leaf LightGBM model, one part file of about 2,500 nodes took 1.2 s at -O1
 * and 1.9 s at -O2 (the whole model about 7 s on two cores); its library scored 1M rows in 5.0 s on one thread at
 * -O2, against 13.1 s for ONNX Runtime on two. -O1's scoring time was not measured.
 */
const FLAGS = ['-O2', '-fPIC', '-fno-math-errno'];

/** The compiler: `SLUICE_CC`, else `cc`. */
function compiler(): string {
  return process.env.SLUICE_CC || 'cc';
}

/** A loaded forest library: scores `rows` rows of float features into `rows × targets` floats. */
export interface ForestLibrary {
  file: string;
  width: number;
  targets: number;
  score(x: Float32Array, rows: number, out: Float32Array): void;
}

const versions = new Map<string, Promise<string>>();

/** The compiler's own version line (part of the cache key: another compiler builds another library). */
function compilerVersion(cc: string): Promise<string> {
  let found = versions.get(cc);
  if (!found) {
    found = run(cc, ['--version'], { timeout: 30_000 }).then(({ stdout }) => stdout.split('\n')[0].trim());
    versions.set(cc, found);
    found.catch(() => versions.delete(cc));
  }
  return found;
}

const building = new Map<string, Promise<string>>();

/**
 * The shared library of `forest`, built once per cache folder: its key is the model's bytes, the generator's
 * version, the compiler's version and flags, and the machine's platform and architecture. Builds go to a fresh
 * folder renamed into place, so concurrent builders (shards of one worker, or workers sharing the folder) never
 * load a half-written library; in one process, concurrent calls for one key share one build.
 */
export async function compiledForest(forest: TreeEnsemble, modelBytes: Uint8Array, cacheDir: string): Promise<string> {
  const cc = compiler();
  const version = await compilerVersion(cc);
  const key = createHash('sha256')
    .update(modelBytes)
    .update(JSON.stringify([GENERATOR_VERSION, version, FLAGS, process.platform, process.arch]))
    .digest('hex')
    .slice(0, 32);
  const dir = path.join(cacheDir, `${process.platform}-${process.arch}`, key);
  const library = path.join(dir, 'forest.so');
  if (fs.existsSync(library)) return library;
  let pending = building.get(key);
  if (!pending) {
    pending = build(forest, cc, dir, library).finally(() => building.delete(key));
    building.set(key, pending);
  }
  return pending;
}

async function build(forest: TreeEnsemble, cc: string, dir: string, library: string): Promise<string> {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const work = fs.mkdtempSync(`${dir}.building-`);
  try {
    const { parts, main } = forestSource(forest);
    const sources = [main, ...parts].map((text, i) => {
      const file = path.join(work, i === 0 ? 'main.c' : `part-${i - 1}.c`);
      fs.writeFileSync(file, text);
      return file;
    });
    // The parts compile in parallel, as many at once as the machine has cores.
    const objects: string[] = [];
    const queue = [...sources];
    const workers = Array.from({ length: Math.min(queue.length, os.availableParallelism()) }, async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const object = file.replace(/\.c$/, '.o');
        await run(cc, [...FLAGS, '-c', file, '-o', object], { timeout: 30 * 60_000, maxBuffer: 16 * 2 ** 20 });
        objects.push(object);
      }
    });
    await Promise.all(workers);
    await run(cc, ['-shared', '-o', path.join(work, 'forest.so'), ...objects, '-lm'], { timeout: 10 * 60_000, maxBuffer: 16 * 2 ** 20 });
    for (const file of fs.readdirSync(work)) if (file !== 'forest.so') fs.rmSync(path.join(work, file));
    try {
      fs.renameSync(work, dir);
    } catch (err) {
      // Another builder renamed its library into place first: it is the same library.
      if (!fs.existsSync(library)) throw err;
    }
    return library;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Loads a library {@link compiledForest} built, checking it scores as wide and as many targets as `forest`. */
export function loadForest(file: string, forest: TreeEnsemble): ForestLibrary {
  const lib = koffi.load(file);
  const width = (lib.func('int sluice_width(void)') as () => number)();
  const targets = (lib.func('int sluice_targets(void)') as () => number)();
  if (width !== forest.width || targets !== forest.targets) {
    throw new Error(`${file} scores ${width} features into ${targets} values, the model ${forest.width} into ${forest.targets}`);
  }
  const score = lib.func('void sluice_score(const void *x, int64_t n, void *out)') as (x: Float32Array, n: number, out: Float32Array) => void;
  return {
    file,
    width,
    targets,
    score(x, rows, out) {
      if (x.length < rows * width || out.length < rows * targets) throw new Error(`${rows} rows need ${rows * width} features and room for ${rows * targets} values`);
      score(x, rows, out);
    },
  };
}
