import crypto from 'node:crypto';
import fs from 'node:fs';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { loadConfig } from '../../workers/config';
import { startCodecServer } from '../../workers/codec/codec-server';
import { wholeNumber, type Define } from './command';

/** The codec server's bearer token, `SLUICE_CODEC_TOKEN` or the file `SLUICE_CODEC_TOKEN_FILE` (a Docker secret). */
export function codecToken(env: NodeJS.ProcessEnv = process.env): string {
  const file = env.SLUICE_CODEC_TOKEN_FILE?.trim();
  let token = env.SLUICE_CODEC_TOKEN?.trim();
  if (file) {
    try {
      token = fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new Error(`SLUICE_CODEC_TOKEN_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  if (!token) throw new Error('the codec server needs a bearer token: set SLUICE_CODEC_TOKEN (or SLUICE_CODEC_TOKEN_FILE), for example to `openssl rand -hex 32`');
  if (token.length < 16) throw new Error(`SLUICE_CODEC_TOKEN is ${token.length} characters; use at least 16 (for example \`openssl rand -hex 32\`)`);
  return token;
}

const keyId = (value: string) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) throw new InvalidArgumentError("expects letters, digits, '.', '_' or '-' (at most 64)");
  return value;
};

export const codec: Define = (program) => {
  program
    .command('codec-server')
    .description("decrypt and encrypt payloads for the Web UI and the temporal CLI (Temporal's remote codec protocol), with the workers' keys (SLUICE_CODEC_KEYS) and a bearer token (SLUICE_CODEC_TOKEN)")
    .option('--port <n>', 'port to listen on', wholeNumber, 8234)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--origin <url...>', "origins allowed to call it from a browser (the Web UI's address; default SLUICE_UI_URL's)")
    .option('--namespace <name...>', 'namespaces served (default TEMPORAL_NAMESPACE)')
    // No connection: the codec server never talks to Temporal.
    .action(async (options) => {
      const config = loadConfig();
      if (!config.codecKeys) throw new Error('the codec server needs the workers\' keys: set SLUICE_CODEC_KEYS (or SLUICE_CODEC_KEYS_FILE)');
      const origins = options.origin ?? [config.uiUrl];
      const { server, url } = await startCodecServer({ keys: config.codecKeys, token: codecToken(), origins, namespaces: options.namespace ?? [config.namespace], port: options.port, host: options.host });
      console.log(`sluice codec server on ${url} (current key ${config.codecKeys.current.id}, ${config.codecKeys.byId.size} key${config.codecKeys.byId.size === 1 ? '' : 's'}; browsers from ${origins.join(', ')})`);
      await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
  program
    .command('codec-key')
    .description('print a new random AES-256 key as an SLUICE_CODEC_KEYS entry (id=base64); put it first to make it the current key')
    .argument('[id]', 'its key id', keyId)
    .action((id) => {
      console.log(`${id ?? `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`}=${crypto.randomBytes(32).toString('base64')}`);
    });
};
