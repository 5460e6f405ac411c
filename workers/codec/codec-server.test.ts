import crypto from 'node:crypto';
import type http from 'node:http';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { parseCodecKeys } from './codec-keys';
import { startCodecServer } from './codec-server';
import { EncryptionCodec } from './encryption-codec';

const TOKEN = 'codec-token-0123456789abcdef';
const UI = 'http://localhost:8233';
const keys = parseCodecKeys(`k1=${crypto.randomBytes(32).toString('base64')}`, 'SLUICE_CODEC_KEYS');
const payloadsOf = async (response: Response) => temporal.api.common.v1.Payloads.fromObject((await response.json()) as Record<string, unknown>).payloads;
const asJson = (payloads: temporal.api.common.v1.IPayload[]) => temporal.api.common.v1.Payloads.toObject(temporal.api.common.v1.Payloads.create({ payloads }), { bytes: String });

describe('the codec server', () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await startCodecServer({ keys, token: TOKEN, origins: [UI], namespaces: ['default'], port: 0, host: '127.0.0.1' }));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (route: string, body: unknown, headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}` }) =>
    fetch(`${url}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers }, body: JSON.stringify(body) });

  it('decodes what the workers encrypted, and encodes so that the workers decrypt', async () => {
    const value = { features: { sql: 'SELECT avg(delay) AS origin_delay_rate_7d FROM source' } };
    const encrypted = await new EncryptionCodec(keys).encode([defaultPayloadConverter.toPayload(value)]);
    const decoded = await post('/decode', asJson(encrypted));
    expect(decoded.status).toBe(200);
    const [payload] = await payloadsOf(decoded);
    expect(defaultPayloadConverter.fromPayload(payload)).toEqual(value);

    const encoded = await post('/encode', asJson([defaultPayloadConverter.toPayload('2001-01-17')]));
    const [sealed] = await payloadsOf(encoded);
    expect(Buffer.from(sealed.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
    expect(defaultPayloadConverter.fromPayload((await new EncryptionCodec(keys).decode([sealed]))[0])).toBe('2001-01-17');
  });

  it('answers 401 without the token, or with another, and decodes nothing', async () => {
    const encrypted = asJson(await new EncryptionCodec(keys).encode([defaultPayloadConverter.toPayload('SELECT secret FROM source')]));
    for (const headers of [{}, { Authorization: 'Bearer wrong-token-0123456789' }, { Authorization: TOKEN }] as Record<string, string>[]) {
      const response = await post('/decode', encrypted, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      const body = await response.text();
      expect(body).toBe('{"message":"a bearer token is required (Authorization: Bearer <SLUICE_CODEC_TOKEN>)"}');
    }
  });

  it("lets the Web UI's origin call it (CORS preflight without the token), and no other origin", async () => {
    const preflight = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace,authorization' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('X-Namespace');
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses another namespace, a body that is not payloads, an unknown key id and another route, clearly', async () => {
    expect((await post('/decode', { payloads: [] }, { Authorization: `Bearer ${TOKEN}`, 'X-Namespace': 'finance' })).status).toBe(403);
    const bad = await post('/decode', { rows: [] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: 'not a payloads body: expected {"payloads": [...]}' });
    const other = parseCodecKeys(`k9=${crypto.randomBytes(32).toString('base64')}`, 'SLUICE_CODEC_KEYS');
    const unknown = await post('/decode', asJson(await new EncryptionCodec(other).encode([defaultPayloadConverter.toPayload(1)])));
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { message: string }).message).toBe('a payload is encrypted under key id `k9`, which the codec keys here do not hold (add it to SLUICE_CODEC_KEYS as an older key)');
    expect((await post('/metrics', { payloads: [] })).status).toBe(404);
  });
});
