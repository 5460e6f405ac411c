import fs from 'node:fs';
import path from 'node:path';
import { specError } from '../../contracts/errors';

/**
 * The data roots of a worker started in `folder` when `SLUICE_DATA_ROOTS` is not set: folders that hold data
 * only — the pipeline specs (`pipelines/`), the user's data (`data/`), the sinks (`.sluice/sinks/`) and the
 * example datasets (vega-datasets' `data/`). Never the folder itself, which holds the dev server's state
 * (`.sluice/temporal`), the tools (`.tools/`), the repository (`.git/`), caches and artifacts.
 */
export function defaultDataRoots(folder: string = process.cwd()): string[] {
  return [path.join(folder, 'pipelines'), path.join(folder, 'data'), path.join(folder, '.sluice', 'sinks'), path.join(folder, 'node_modules', 'vega-datasets', 'data')];
}

/**
 * Folders a spec may read sources from and publish sinks to: `SLUICE_DATA_ROOTS` (a list separated like
 * PATH), else {@link defaultDataRoots} of the worker's working directory. Each is its real path (symlinks
 * resolved), so a link inside a root cannot lead out of it. A spec cannot make a worker read or write elsewhere.
 */
export function dataRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const configured = env.SLUICE_DATA_ROOTS?.split(path.delimiter).filter(Boolean);
  return (configured && configured.length > 0 ? configured : defaultDataRoots()).map(realPath);
}

/**
 * The real path of `file`: symlinks resolved. For a path that does not exist yet (a sink about to be
 * written), its nearest existing parent is resolved and the rest appended.
 */
export function realPath(file: string): string {
  const absolute = path.resolve(file);
  const missing: string[] = [];
  let existing = absolute;
  for (;;) {
    try {
      return path.join(fs.realpathSync(existing), ...missing.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return absolute;
      missing.push(path.basename(existing));
      existing = parent;
    }
  }
}

/** True when `file` (a real path) is `root` or lies below it. */
export function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * `file`'s real path, or a non-retryable error naming the spec field when it lies outside every data root
 * (after symlinks are resolved: a link inside a root that points outside is outside).
 */
export function insideDataRoots(file: string, field: string, specFile: string): string {
  const resolved = realPath(file);
  const roots = dataRoots();
  if (!roots.some((root) => isInside(root, resolved))) {
    throw specError(`${specFile}: ${field}: ${path.resolve(file)} is outside the data roots (${roots.join(', ')}); set SLUICE_DATA_ROOTS on the workers to allow it`);
  }
  return resolved;
}
