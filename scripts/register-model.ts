/**
 * Registers an ONNX model trained elsewhere (bring your own model) as a new version of a pipeline's model.
 *   npm run register-model -- <pipeline> <model.onnx> <schema.json> [--promote]
 * schema.json: {"features": [{"name": "hour_of_day", "type": "DOUBLE"}, …]} — the feature columns of the
 * pipeline's features.sql the model reads, in its input order, with their DuckDB types.
 */
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { ColumnInfo } from '../activities/artifacts';
import { registerExternalModel } from '../activities/register-external';
import { openArtifactStore } from '../activities/storage/open-store';
import { setAlias } from '../activities/registry';
import { connectionOptions, loadConfig, registryQueueOf } from '../workers/config';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const promote = args.includes('--promote');
  const [model, file, schemaFile] = args.filter((a) => !a.startsWith('--'));
  if (!model || !file || !schemaFile) {
    console.error('usage: npm run register-model -- <pipeline> <model.onnx> <schema.json> [--promote]');
    process.exit(2);
  }
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as { features?: ColumnInfo[]; trained_with?: string };
  if (!Array.isArray(schema.features)) throw new Error(`${schemaFile}: expected {"features": [{"name": …, "type": …}, …]}`);
  const config = loadConfig();
  const connection = await Connection.connect(connectionOptions(config));
  try {
    const client = new Client({ connection, namespace: config.namespace });
    const version = await registerExternalModel(client, registryQueueOf(config), openArtifactStore(config), { model, file, features: schema.features, description: schema.trained_with });
    console.log(`Registered ${file} as ${model} v${version.version} (${version.artifactUri}), input: ${version.featureNames.join(', ')}`);
    if (promote) {
      await setAlias(client, model, { alias: 'champion', version: version.version, actor: process.env.USER ?? 'cli', reason: 'registered external model with --promote' });
      console.log(`${model} v${version.version} is now the champion.`);
    }
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
