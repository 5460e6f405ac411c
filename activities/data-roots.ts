import path from 'node:path';
import { specError } from './errors';

/**
 * Folders a spec may read sources from and publish sinks to: `SLUICE_DATA_ROOTS` (a list separated like
 * PATH), else the worker's working directory. A spec cannot make a worker read or write elsewhere.
 */
export function dataRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const configured = env.SLUICE_DATA_ROOTS?.split(path.delimiter).filter(Boolean);
  return (configured && configured.length > 0 ? configured : [process.cwd()]).map((r) => path.resolve(r));
}

/** `file` resolved, or a non-retryable error naming the spec field when it lies outside every data root. */
export function insideDataRoots(file: string, field: string, specFile: string): string {
  const resolved = path.resolve(file);
  const roots = dataRoots();
  const inside = (root: string) => {
    const relative = path.relative(root, resolved);
    return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
  };
  if (!roots.some(inside)) {
    throw specError(`${specFile}: ${field}: ${resolved} is outside the data roots (${roots.join(', ')}); set SLUICE_DATA_ROOTS on the workers to allow it`);
  }
  return resolved;
}
