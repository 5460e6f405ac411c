import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { specError } from '../../contracts/errors';
import type { TrainerCode } from '../../contracts/plugins';
import { isInside, realPath } from './data-roots';

/**
 * Folders a spec's trainer code may be loaded from: `SLUICE_CODE_ROOTS` (a list separated like PATH), else the
 * pipeline specs' folder (`pipelines/`) of the worker's working directory. Code is not data: whoever may write
 * in a code root may run code on the Python workers, so the data roots (where sinks write) are never code roots
 * unless they are named here.
 */
export function codeRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const configured = env.SLUICE_CODE_ROOTS?.split(path.delimiter).filter(Boolean);
  return (configured && configured.length > 0 ? configured : [path.join(process.cwd(), 'pipelines')]).map(realPath);
}

/** The module a spec's trainer names (relative to the spec), found inside the code roots and hashed; a precise spec error otherwise. */
export function trainerCode(module: string, setting: string, specFile: string): TrainerCode {
  const at = `${specFile}: ${setting}`;
  if (!/\.py$/.test(module)) throw specError(`${at}: expected a Python file (.py) relative to the spec, got ${JSON.stringify(module)}`);
  const file = path.resolve(path.dirname(specFile), module);
  const resolved = realPath(file);
  const roots = codeRoots();
  if (!roots.some((root) => isInside(root, resolved))) {
    throw specError(`${at}: ${file} is outside the code roots (${roots.join(', ')}); trainer code is loaded only from them (whoever may write there may run code on the Python workers): move it there, or add its folder to SLUICE_CODE_ROOTS on the workers`);
  }
  let text: Buffer;
  try {
    text = fs.readFileSync(resolved);
  } catch {
    throw specError(`${at}: file not found: ${module} (relative to the spec: ${file})`);
  }
  return { setting, path: resolved, sha256: createHash('sha256').update(text).digest('hex') };
}
