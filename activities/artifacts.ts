import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** One column of a tabular artifact: its name and DuckDB type. */
export interface ColumnInfo {
  name: string;
  type: string;
}

/**
 * A reference to a file an activity produced. Workflows pass these, never rows.
 * `uri` is `artifact:<kind>/<fingerprint>/<file>`, relative to the artifact root, so a history
 * recorded on one machine means the same on another that shares the artifact store.
 */
export interface ArtifactRef {
  uri: string;
  fingerprint: string;
  rows: number;
  bytes: number;
  columns: ColumnInfo[];
}

/** What a step stored, and whether it was found from an earlier run rather than computed now. */
export interface StepOutput<T> {
  value: T;
  reused: boolean;
}

const SCHEME = 'artifact:';
const MANIFEST = '_manifest.json';

/** Content-addressed, atomically published step outputs under one root folder. */
export class ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** The local path of an `artifact:` URI; refuses URIs that would escape the root. */
  pathOf(uri: string): string {
    if (!uri.startsWith(SCHEME)) throw new Error(`not an artifact URI: ${uri}`);
    const relative = uri.slice(SCHEME.length);
    const full = path.resolve(this.root, relative);
    if (!full.startsWith(this.root + path.sep)) throw new Error(`artifact URI escapes the artifact root: ${uri}`);
    return full;
  }

  /**
   * Returns the stored output of step `kind` for `fingerprint`, or builds it. `build` writes files into a
   * private staging folder and names them through `uriOf`; the folder is renamed into place in one step,
   * with its manifest, so a half-written output is never visible and a concurrent builder loses harmlessly.
   */
  async reuseOrBuild<T>(kind: string, fingerprint: string, build: (staging: StagingArea) => Promise<T>): Promise<StepOutput<T>> {
    const finalDir = path.join(this.root, kind, fingerprint);
    const existing = readManifest<T>(finalDir);
    if (existing !== undefined) return { value: existing, reused: true };
    const stagingDir = `${finalDir}.staging-${randomBytes(6).toString('hex')}`;
    fs.mkdirSync(stagingDir, { recursive: true });
    try {
      const value = await build({
        dir: stagingDir,
        file: (name) => path.join(stagingDir, name),
        uriOf: (name) => `${SCHEME}${kind}/${fingerprint}/${name}`,
      });
      fs.writeFileSync(path.join(stagingDir, MANIFEST), JSON.stringify(value, null, 2));
      try {
        fs.renameSync(stagingDir, finalDir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // Another attempt published the same content first: keep theirs.
        const theirs = readManifest<T>(finalDir);
        if (theirs === undefined) throw err;
        return { value: theirs, reused: true };
      }
      return { value, reused: false };
    } finally {
      fs.rmSync(stagingDir, { recursive: true, force: true });
    }
  }
}

/** A step's private folder while it builds its output. */
export interface StagingArea {
  dir: string;
  /** Path of a file in the staging folder. */
  file(name: string): string;
  /** The URI the file will have once published. */
  uriOf(name: string): string;
}

function readManifest<T>(dir: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** An id (a workflow or run id) as one safe path segment: anything but letters, digits, `.`, `_` and `-` becomes `_`. */
export function safePathSegment(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Writes a file aside and renames it into place, so the file on disk is always whole. */
export function writeFileAtomically(file: string, data: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.partial`, data);
  fs.renameSync(`${file}.partial`, file);
}

/** SHA-256 over the parts given, each length-prefixed so that ("ab","c") and ("a","bc") differ. */
export function fingerprintOf(...parts: Array<string | number>): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const text = String(part);
    hash.update(`${Buffer.byteLength(text)}:`).update(text);
  }
  return hash.digest('hex').slice(0, 32);
}

const fileHashes = new Map<string, { key: string; hash: string }>();

/** SHA-256 of a file's contents, cached in-process by path, size and modification time. */
export function fileFingerprint(file: string): string {
  const stat = fs.statSync(file);
  const key = `${stat.size}:${stat.mtimeMs}`;
  const cached = fileHashes.get(file);
  if (cached?.key === key) return cached.hash;
  const hash = createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 32);
  fileHashes.set(file, { key, hash });
  return hash;
}
