import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { CodecKeys } from './codec-keys';
import { EncryptionCodec } from './encryption-codec';

export interface CodecServerOptions {
  keys: CodecKeys;
  /** The bearer token every request must carry (`Authorization: Bearer <token>`), `SLUICE_CODEC_TOKEN`. */
  token: string;
  /** Origins whose pages may call the server (the Web UI's), answered with CORS headers; others get none. */
  origins: string[];
  /** Namespaces served: a request whose `X-Namespace` names another is refused (403). */
  namespaces: string[];
  port: number;
  host: string;
}

/** Most bytes one request may carry (Temporal's own limit on a payload is 2 MB; a request holds several). */
const MAX_BODY_BYTES = 32 * 2 ** 20;

interface JsonPayloads {
  payloads?: unknown;
}

/** Bytes fields as base64 text both ways: the JSON form of `temporal.api.common.v1.Payloads` the UI and CLI send. */
const Payloads = temporal.api.common.v1.Payloads;
const toJson = (payloads: Payload[]) => Payloads.toObject(Payloads.create({ payloads }), { bytes: String, defaults: false });

function fromJson(body: string): Payload[] {
  const parsed = JSON.parse(body) as JsonPayloads;
  if (!parsed || typeof parsed !== 'object' || !Array.isArray(parsed.payloads)) throw new Error('expected {"payloads": [...]}');
  return Payloads.fromObject(parsed).payloads;
}

/**
 * Temporal's remote codec protocol: `POST …/encode` and `POST …/decode` with `{"payloads": [...]}`, for the Web
 * UI (`--ui-codec-endpoint`) and the `temporal` CLI (`--codec-endpoint`, `--codec-auth`). Every request but a
 * CORS preflight must carry the bearer token; one without it gets 401 and nothing is decoded.
 */
export function codecServer(options: CodecServerOptions): http.Server {
  const codec = new EncryptionCodec(options.keys);
  const expected = crypto.createHash('sha256').update(`Bearer ${options.token}`).digest();
  const authorized = (header: string | undefined) => header !== undefined && crypto.timingSafeEqual(crypto.createHash('sha256').update(header).digest(), expected);
  return http.createServer((request, response) => {
    const origin = request.headers.origin;
    if (origin && options.origins.includes(origin)) {
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Access-Control-Allow-Credentials', 'true');
      response.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      response.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      response.setHeader('Vary', 'Origin');
    }
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'OPTIONS') {
      response.writeHead(204);
      response.end();
      return;
    }
    const route = /\/(encode|decode)\/?$/.exec((request.url ?? '').split('?')[0]);
    if (request.method !== 'POST' || !route) return answer(404, { message: 'the codec server answers POST /encode and POST /decode' });
    if (!authorized(request.headers.authorization)) {
      response.setHeader('WWW-Authenticate', 'Bearer');
      return answer(401, { message: 'a bearer token is required (Authorization: Bearer <SLUICE_CODEC_TOKEN>)' });
    }
    const namespace = request.headers['x-namespace'];
    if (typeof namespace === 'string' && namespace !== '' && !options.namespaces.includes(namespace)) {
      return answer(403, { message: `this codec server serves namespace ${options.namespaces.join(', ')}, not ${namespace}` });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        answer(413, { message: `a request may carry at most ${MAX_BODY_BYTES} bytes` });
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => {
      if (response.writableEnded) return;
      let payloads: Payload[];
      try {
        payloads = fromJson(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        return answer(400, { message: `not a payloads body: ${(err as Error).message}` });
      }
      (route[1] === 'encode' ? codec.encode(payloads) : codec.decode(payloads)).then(
        (out) => answer(200, toJson(out)),
        (err: unknown) => answer(400, { message: (err as Error).message }),
      );
    });
  });
}

/** Starts the codec server; resolves once it listens, with its address. */
export async function startCodecServer(options: CodecServerOptions): Promise<{ server: http.Server; url: string }> {
  const server = codecServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}` };
}
