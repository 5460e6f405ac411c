import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { S3Objects } from './object-store';

/** What a step stored, and whether it was found from an earlier run rather than computed now. */
export interface StepOutput<T> {
  value: T;
  reused: boolean;
}

const SCHEME = 'artifact:';
const MANIFEST = '_manifest.json';
/** Outputs of these kinds are content-addressed and rebuilt or fetched again when missing: a remote store's cache may drop them. */
const CACHED_KINDS = ['extract', 'features', 'models'];

/** How much a remote store's local cache keeps. */
export interface CacheLimits {
  /** Most bytes of content-addressed entries (default 20 GiB). */
  bytes?: number;
  /** An entry used this recently is never evicted: an activity of this worker may be reading it (default ten minutes). */
  inUseMs?: number;
}

/**
 * Content-addressed, atomically published step outputs. Local (the default): one folder, `root`, is the
 * store. Remote (`SLUICE_ARTIFACTS=s3://bucket/prefix`): an S3 location is the store and `root` is this
 * worker's cache of it, bounded to `cacheBytes`; any worker can read what any other published.
 */
export class ArtifactStore {
  readonly root: string;

  constructor(
    root: string,
    readonly remote?: S3Objects,
    private readonly cache: CacheLimits = {},
  ) {
    this.root = path.resolve(root);
  }

  /** Where the artifacts live, for messages: the S3 location or the folder. */
  get location(): string {
    return this.remote?.location ?? this.root;
  }

  /** The path of an artifact relative to the store, checked: refuses URIs that would escape it. */
  private relativeOf(uri: string): string {
    if (!uri.startsWith(SCHEME)) throw new Error(`not an artifact URI: ${uri}`);
    const relative = uri.slice(SCHEME.length);
    const full = path.resolve(this.root, relative);
    if (!full.startsWith(this.root + path.sep)) throw new Error(`artifact URI escapes the artifact root: ${uri}`);
    return path.relative(this.root, full).split(path.sep).join('/');
  }

  /** The local path of an `artifact:` URI (in the cache, for a remote store); refuses URIs that would escape the root. */
  pathOf(uri: string): string {
    return path.join(this.root, this.relativeOf(uri));
  }

  /** The local file of an artifact, downloaded into the cache first when the store is remote and this worker lacks it. */
  async fetch(uri: string): Promise<string> {
    const file = await this.fetchIfPresent(uri);
    if (file === undefined) throw new Error(`artifact ${uri} is not in the artifact store at ${this.location}`);
    return file;
  }

  /** Like {@link fetch}, but undefined when the store has no such file. */
  async fetchIfPresent(uri: string): Promise<string | undefined> {
    const file = this.pathOf(uri);
    if (fs.existsSync(file)) {
      this.touch(file);
      return file;
    }
    if (!this.remote || !(await this.remote.download(this.relativeOf(uri), file))) return undefined;
    this.touch(file);
    this.evict();
    return file;
  }

  /** A local folder with every file stored under `uri` (downloading, for a remote store, the files this worker lacks). */
  async fetchFolder(uri: string): Promise<string> {
    const dir = this.pathOf(uri);
    if (!this.remote) return dir;
    for (const object of await this.remote.list(this.relativeOf(uri))) {
      const file = path.join(this.root, object.key);
      if (!fs.existsSync(file) || fs.statSync(file).size !== object.bytes) await this.remote.download(object.key, file);
    }
    return dir;
  }

  /**
   * Copies a file or folder written locally under `uri` to the remote store (nothing to do for a local one).
   * A folder replaces what the remote store had under it; its `_*` marker files go last, so a reader that
   * finds the marker finds every file.
   */
  async push(uri: string): Promise<void> {
    if (!this.remote) return;
    const local = this.pathOf(uri);
    const relative = this.relativeOf(uri);
    if (fs.statSync(local).isFile()) {
      await this.remote.upload(local, relative);
      return;
    }
    await this.remote.remove(relative);
    await this.uploadFolder(local, relative);
  }

  /** Uploads every file under a local folder to `relative` in the remote store, marker files last. */
  private async uploadFolder(local: string, relative: string): Promise<void> {
    const files = filesUnder(local).sort((a, b) => Number(isMarker(a)) - Number(isMarker(b)));
    for (const file of files) await this.remote?.upload(file, `${relative}/${path.relative(local, file).split(path.sep).join('/')}`);
  }

  /** Removes a file or folder from the store (and from this worker's cache). */
  async remove(uri: string): Promise<void> {
    fs.rmSync(this.pathOf(uri), { recursive: true, force: true });
    await this.remote?.remove(this.relativeOf(uri));
  }

  /** The stored output of step `kind` for `fingerprint`, if any worker published it. */
  async find<T>(kind: string, fingerprint: string): Promise<T | undefined> {
    const finalDir = path.join(this.root, kind, fingerprint);
    return readManifest<T>(finalDir) ?? (await this.remoteManifest<T>(kind, fingerprint, finalDir));
  }

  /**
   * Returns the stored output of step `kind` for `fingerprint`, or builds it. `build` writes files into a
   * private staging folder and names them through `uriOf`; the folder is renamed into place in one step,
   * with its manifest, so a half-written output is never visible and a concurrent builder loses harmlessly.
   * A remote store gets the files first and the manifest last: a reader that finds the manifest finds the files.
   */
  async reuseOrBuild<T>(kind: string, fingerprint: string, build: (staging: StagingArea) => Promise<T>): Promise<StepOutput<T>> {
    const finalDir = path.join(this.root, kind, fingerprint);
    const existing = await this.find<T>(kind, fingerprint);
    if (existing !== undefined) {
      this.touch(finalDir);
      return { value: existing, reused: true };
    }
    const stagingDir = `${finalDir}.staging-${randomBytes(6).toString('hex')}`;
    fs.mkdirSync(stagingDir, { recursive: true });
    try {
      const value = await build({
        dir: stagingDir,
        file: (name) => path.join(stagingDir, name),
        uriOf: (name) => `${SCHEME}${kind}/${fingerprint}/${name}`,
      });
      fs.writeFileSync(path.join(stagingDir, MANIFEST), JSON.stringify(value, null, 2));
      await this.uploadFolder(stagingDir, `${kind}/${fingerprint}`);
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
      this.evict();
      return { value, reused: false };
    } finally {
      fs.rmSync(stagingDir, { recursive: true, force: true });
    }
  }

  /** The manifest another worker published to the remote store, kept in this worker's cache; its files come when read. */
  private async remoteManifest<T>(kind: string, fingerprint: string, finalDir: string): Promise<T | undefined> {
    const text = await this.remote?.readText(`${kind}/${fingerprint}/${MANIFEST}`);
    if (text === undefined) return undefined;
    fs.mkdirSync(finalDir, { recursive: true });
    writeFileAtomically(path.join(finalDir, MANIFEST), text);
    return JSON.parse(text) as T;
  }

  /** Marks a cache entry (its `kind/fingerprint` folder) as just used. */
  private touch(file: string): void {
    if (!this.remote) return;
    const [kind, fingerprint] = path.relative(this.root, file).split(path.sep);
    if (!fingerprint) return;
    const now = new Date();
    try {
      fs.utimesSync(path.join(this.root, kind, fingerprint), now, now);
    } catch {
      // A checkpoint file is its own entry; nothing to mark.
    }
  }

  /**
   * Keeps a remote store's cache under its limit: drops the least recently used content-addressed entries
   * (extracts, feature sets, models), never one in use. They come back from the store when read.
   */
  private evict(): void {
    if (!this.remote) return;
    const entries = CACHED_KINDS.flatMap((kind) => {
      const dir = path.join(this.root, kind);
      if (!fs.existsSync(dir)) return [];
      return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.includes('.staging-'))
        .map((e) => {
          const full = path.join(dir, e.name);
          return { dir: full, used: fs.statSync(full).mtimeMs, bytes: filesUnder(full).reduce((sum, f) => sum + fs.statSync(f).size, 0) };
        });
    });
    let total = entries.reduce((sum, e) => sum + e.bytes, 0);
    const limit = this.cache.bytes ?? 20 * 2 ** 30;
    const cutoff = Date.now() - (this.cache.inUseMs ?? 10 * 60_000);
    for (const entry of entries.sort((a, b) => a.used - b.used)) {
      if (total <= limit) break;
      if (entry.used > cutoff) continue;
      fs.rmSync(entry.dir, { recursive: true, force: true });
      total -= entry.bytes;
    }
  }
}

/** Every file under a folder. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** Marker files (`_manifest.json`, `_SUCCESS`-style) say a folder is complete: they are uploaded last. */
const isMarker = (file: string) => path.basename(file).startsWith('_');

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
