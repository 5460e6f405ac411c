import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectionOptions, loadConfig } from './config';

describe('configuration from the environment', () => {
  it('talks plain gRPC to a local server by default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ address: 'localhost:7233', namespace: 'default', taskQueue: 'sluice', tls: undefined, apiKey: undefined });
    expect(connectionOptions(config)).toEqual({ address: 'localhost:7233', tls: undefined, apiKey: undefined });
  });

  it('uses TLS with an API key for Temporal Cloud', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'secret' });
    const options = connectionOptions(config);
    expect(options.apiKey).toBe('secret');
    expect(options.tls).toEqual({ serverNameOverride: undefined, serverRootCACertificate: undefined, clientCertPair: undefined });
  });

  it('reads mTLS certificate files, and says which setting is wrong', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-tls-'));
    fs.writeFileSync(path.join(dir, 'client.pem'), 'CERT');
    fs.writeFileSync(path.join(dir, 'client.key'), 'KEY');
    const env = { TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'client.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'client.key'), TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' };
    const tls = connectionOptions(loadConfig(env)).tls;
    expect(tls?.serverNameOverride).toBe('temporal.internal');
    expect(Buffer.from(tls?.clientCertPair?.crt ?? []).toString()).toBe('CERT');
    expect(Buffer.from(tls?.clientCertPair?.key ?? []).toString()).toBe('KEY');
    expect(() => connectionOptions(loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: env.TEMPORAL_TLS_CLIENT_CERT_PATH }))).toThrow('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together');
    expect(() => connectionOptions(loadConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing.pem') }))).toThrow(`cannot read the server CA certificate ${path.join(dir, 'missing.pem')} (ENOENT)`);
  });
});
