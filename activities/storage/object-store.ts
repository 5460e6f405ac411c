import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/** An `s3://bucket/prefix` location, split. */
export interface S3Location {
  bucket: string;
  /** Without leading or trailing `/`; may be empty. */
  prefix: string;
}

/** Parses `s3://bucket[/prefix]`; refuses anything else with a message naming `what`. */
export function parseS3Uri(uri: string, what: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!match) throw new Error(`${what}: ${uri} is not an s3://bucket/prefix address (bucket names are 3-63 lowercase letters, digits, dots and hyphens)`);
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '..' || part === '.')) throw new Error(`${what}: ${uri} has a "." or ".." segment`);
  return { bucket: match[1], prefix };
}

/**
 * The S3 client every Sluice process uses, from the standard AWS environment: credentials (the SDK's
 * default chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance roles), AWS_REGION
 * (default us-east-1) and AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible server, which is
 * addressed path-style (`SLUICE_S3_PATH_STYLE=false` for virtual-hosted buckets). Nothing of this goes into
 * workflow payloads or histories: they carry artifact URIs only.
 */
function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  // The SDK warns on Node 20 about versions published after early 2027; the version package.json pins runs on it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const pathStyle = env.SLUICE_S3_PATH_STYLE ? env.SLUICE_S3_PATH_STYLE !== 'false' : endpoint !== undefined;
  return new S3Client({ region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1', endpoint, forcePathStyle: pathStyle });
}

let shared: S3Client | undefined;
/** One client per process (it pools its connections). */
export function sharedS3Client(): S3Client {
  shared ??= s3ClientFromEnv();
  return shared;
}

/** Objects under one S3 location, addressed by keys relative to its prefix. */
export class S3Objects {
  readonly location: string;

  constructor(
    private readonly client: S3Client,
    private readonly where: S3Location,
  ) {
    this.location = `s3://${where.bucket}${where.prefix ? `/${where.prefix}` : ''}`;
  }

  private key(relative: string): string {
    return this.where.prefix ? `${this.where.prefix}/${relative}` : relative;
  }

  /** Downloads an object to `file` (written aside, then renamed: the file is whole or absent); false when there is no such object. */
  async download(relative: string, file: string): Promise<boolean> {
    let body: Readable;
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(relative) }));
      body = answer.Body as Readable;
    } catch (err) {
      if (isMissing(err)) return false;
      throw this.failure('read', relative, err);
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.download-${randomBytes(4).toString('hex')}`;
    try {
      await pipeline(body, fs.createWriteStream(partial));
      fs.renameSync(partial, file);
    } finally {
      fs.rmSync(partial, { force: true });
    }
    return true;
  }

  /** An object's entity tag and size, or undefined when there is no such object. */
  async head(relative: string): Promise<{ etag: string; bytes: number } | undefined> {
    try {
      const answer = await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key: this.key(relative) }));
      return { etag: (answer.ETag ?? '').replace(/"/g, ''), bytes: answer.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err) || (err instanceof S3ServiceException && err.name === 'NotFound')) return undefined;
      throw this.failure('read', relative, err);
    }
  }

  /** An object's text, or undefined when there is none. */
  async readText(relative: string): Promise<string | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(relative) }));
      return await answer.Body?.transformToString('utf8');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw this.failure('read', relative, err);
    }
  }

  /** Uploads a file (multipart above 8 MiB, parts in parallel: @aws-sdk/lib-storage). */
  async upload(file: string, relative: string): Promise<void> {
    try {
      await new Upload({ client: this.client, params: { Bucket: this.where.bucket, Key: this.key(relative), Body: fs.createReadStream(file) }, queueSize: 4, partSize: 8 * 2 ** 20 }).done();
    } catch (err) {
      throw this.failure('write', relative, err);
    }
  }

  async writeText(relative: string, text: string): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.where.bucket, Key: this.key(relative), Body: text, ContentType: 'application/json' }));
    } catch (err) {
      throw this.failure('write', relative, err);
    }
  }

  /** Keys (relative, with their sizes) under a relative folder. */
  async list(folder: string): Promise<Array<{ key: string; bytes: number }>> {
    const base = folder.replace(/\/+$/, '');
    const prefix = base ? `${this.key(base)}/` : this.where.prefix ? `${this.where.prefix}/` : '';
    const strip = this.where.prefix ? this.where.prefix.length + 1 : 0;
    const found: Array<{ key: string; bytes: number }> = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.where.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) if (o.Key) found.push({ key: o.Key.slice(strip), bytes: o.Size ?? 0 });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.failure('list', folder, err);
    }
    return found;
  }

  /** Deletes an object, or every object under a relative folder. */
  async remove(relative: string): Promise<void> {
    await this.removeKeys([relative, ...(await this.list(relative)).map((o) => o.key)], relative);
  }

  /** Deletes these objects (relative keys), a thousand per request; `what` names them in an error. */
  async removeKeys(relatives: string[], what = relatives[0] ?? ''): Promise<void> {
    const keys = relatives.map((r) => this.key(r));
    try {
      for (let i = 0; i < keys.length; i += 1000) {
        await this.client.send(new DeleteObjectsCommand({ Bucket: this.where.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
      }
    } catch (err) {
      throw this.failure('delete', what, err);
    }
  }

  /** An error that names the object and the server's reason, never a credential. */
  private failure(action: string, relative: string, err: unknown): Error {
    const reason = err instanceof S3ServiceException ? `${err.name}: ${err.message}` : err instanceof Error ? err.message : String(err);
    return new Error(`cannot ${action} ${this.location}/${relative} (${reason})`);
  }
}

function isMissing(err: unknown): boolean {
  return err instanceof NoSuchKey || (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404));
}
