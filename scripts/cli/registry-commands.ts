import { queryRegistry, setAlias } from '../../activities/registry/registry';
import { rollbackModel } from '../../workflows/rollback';
import fs from 'node:fs';
import path from 'node:path';
import { uploadModelFile } from '../../activities/train/external-model';
import { openArtifactStore } from '../../activities/storage/open-store';
import { trainPipeline, type TrainPipelineResult } from '../../workflows/train-pipeline';
import type { Command as Cli } from '@commander-js/extra-typings';
import { actor, JSON_OPTION, modelVersion, output, runId, UsageError, type Define, type Runner } from './command';
import { formatTrainResult, metricsLine } from './format';
import { FOLLOW, metadata, NO_WAIT, startAndFollow } from './run-commands';
import { table } from './table';
import { headline, taskOf } from '../../contracts/metric-values';
import type { ModelVersion } from '../../contracts/registry';
import { metricNamed } from '../../contracts/tasks';

/** --reason, which an alias change needs: it goes into the audit trail. */
const REASON = ['--reason <why>', 'why, for the audit trail'] as const;

export const models: Define = (program, run) => {
  const command = program
    .command('models')
    .description("a pipeline's registered model versions: aliases, origin, AUC, artifact, and the audit trail of alias changes; `models register` adds a model trained elsewhere");
  register(command, run);
  show(command, run);
  command
    .argument('<pipeline>', 'the pipeline name')
    .option(...JSON_OPTION)
    .action((pipeline, options) =>
      run(options, async (context) => {
        const registry = await queryRegistry(context.client, pipeline);
        if (!registry) {
          context.print(`no models registered for ${pipeline}: train one with \`sluice train pipelines/${pipeline}.yaml\``);
          return 1;
        }
        output(context, registry, () => {
          const alias = (v: number) =>
            Object.entries(registry.aliases)
              .filter(([, n]) => n === v)
              .map(([a]) => a)
              .join(',');
          const versions = table(
            [{ head: 'version' }, { head: 'aliases' }, { head: 'origin' }, { head: 'validation', right: true }, { head: 'registered' }, { head: 'artifact' }],
            registry.versions.map((v) => [`v${v.version}`, alias(v.version) || '-', v.origin ?? 'trained', v.metrics ? headline(v.metrics) : '-', v.registeredAt, v.artifactUri]),
          );
          const audit = table(
            [{ head: 'at' }, { head: 'alias' }, { head: 'from' }, { head: 'to' }, { head: 'by' }, { head: 'reason' }],
            registry.audit.map((a) => [a.at, a.alias, a.previous == null ? '-' : `v${a.previous}`, a.version == null ? '-' : `v${a.version}`, a.actor, a.reason]),
          );
          return [versions, '', 'audit:', audit].join('\n');
        });
        return 0;
      }),
  );
};

/** Features `models show` lists at most, the most important first. */
const TOP_FEATURES = 15;

/** `sluice models show <pipeline> <version>`: one version's lineage, validation metrics and most important features. */
const show = (models: Pick<Cli, 'command'>, run: Runner) =>
  models
    .command('show')
    .description("one model version: its aliases, lineage, validation metrics, and its most important features (permutation importance on the validation window, beside the trainer's own measure)")
    .argument('<pipeline>', 'the pipeline name')
    .argument('<version>', 'the version (3 or v3)')
    .option(...JSON_OPTION)
    .action((pipeline, version, options, command) =>
      run({ ...options, ...command.optsWithGlobals() }, async (context) => {
        const registry = await queryRegistry(context.client, pipeline);
        const wanted = Number(version.replace(/^v/, ''));
        const found = registry?.versions.find((v) => v.version === wanted);
        if (!registry || !found) {
          const known = registry?.versions.map((v) => `v${v.version}`).join(', ');
          throw new UsageError(`${pipeline} has no model version ${version}${known ? `; its versions: ${known}` : ': no models registered'}`);
        }
        const aliases = Object.entries(registry.aliases).filter(([, n]) => n === found.version).map(([a]) => a);
        output(context, { ...found, aliases }, () => describeVersion(pipeline, found, aliases));
        return 0;
      }),
    );

/** A model version as `models show` prints it. */
export function describeVersion(pipeline: string, v: ModelVersion, aliases: string[]): string {
  const lines = [
    `${pipeline} v${v.version}${aliases.length ? ` (${aliases.join(', ')})` : ''}: ${v.metrics ? `${taskOf(v.metrics)} model` : 'model'}, ${v.origin ?? 'trained'}, registered ${v.registeredAt}`,
    `  artifact ${v.artifactUri}`,
    `  trained on ${v.trainingWindow} by ${v.trainingWorkflowId}; features ${v.dataFingerprints.features.slice(0, 12)}, spec ${v.specHash.slice(0, 12)}${v.dataFingerprints.code ? `, code ${v.dataFingerprints.code.slice(0, 12)}` : ''}`,
    `  validation: ${v.metrics ? metricsLine(v.metrics) : 'not evaluated'}`,
  ];
  const importance = v.metrics?.importance;
  if (!importance) return [...lines, `  ${v.featureNames.length} features; no importance recorded (a model evaluated before Sluice measured it, or evaluation.importance.rows: 0)`].join('\n');
  if (importance.skipped) return [...lines, `  ${v.featureNames.length} features; permutation importance ${importance.skipped}`].join('\n');
  const shown = importance.features.slice(0, TOP_FEATURES);
  const metric = metricNamed(importance.metric)?.words ?? importance.metric;
  const own = importance.measure ? [{ head: `${importance.measure} share`, right: true }] : [];
  const rows = shown.map((f, k) => [String(k + 1), f.feature, `${f.drop.toFixed(4)} ± ${f.spread.toFixed(4)}`, ...(importance.measure ? [f.own === undefined ? '-' : `${(100 * f.own).toFixed(1)}%`] : [])]);
  return [
    ...lines,
    '',
    `Most important of ${v.featureNames.length} features (drop of ${metric} when shuffled, ${importance.rows} validation rows, ${importance.repeats} shuffles, seed ${importance.seed}):`,
    table([{ head: '#', right: true }, { head: 'feature' }, { head: `${metric} drop`, right: true }, ...own], rows),
  ].join('\n');
}

/** `sluice models register <spec> <model.onnx>`: a model trained elsewhere, evaluated and gated like a trained one. */
const register = (models: Pick<Cli, 'command'>, run: Runner) =>
  models
    .command('register')
    .description(
      "register an ONNX model trained elsewhere as a version of the spec's pipeline: it is evaluated on the spec's validation window, gated and compared with the champion like a trained model (and promoted when the spec's promotion says so)",
    )
    .addHelpText(
      'after',
      '\nThe model takes one float tensor [rows, features] and outputs a probability (e.g. skl2onnx with zipmap off). Its input columns, in order:' +
        '\n--schema\'s list, else the names it carries in metadata_props (sluice.feature_names), else every feature column of features.sql when it is that wide.' +
        '\nEvery feature reaches it as float32, whatever its SQL type. The same file with another schema is another version.',
    )
    .argument('<spec>', 'the pipeline spec file (read by the workers)')
    .argument('<model>', 'the ONNX file (read here and copied into the artifact store)')
    .option('--schema <file>', 'JSON: {"features": [{"name": "hour_of_day"}, …]} in the model\'s input order (a type per feature may be given; it must be numeric)')
    .option('--description <text>', 'what the model is, for the registry (default: the schema\'s "trained_with")')
    .option(...NO_WAIT)
    .option(...FOLLOW)
    .option(...JSON_OPTION)
    // `models` has a --json of its own, which commander gives the parent: read both.
    .action((spec, file, options, command) =>
      run({ ...options, ...command.optsWithGlobals() }, async (context) => {
        const schema = options.schema ? readSchema(options.schema) : undefined;
        const uri = await uploadModelFile(openArtifactStore(context.config), file);
        const externalModel = { uri, file: path.basename(file), features: schema?.features, description: options.description ?? schema?.description };
        const handle = await context.client.workflow.start(trainPipeline, {
          taskQueue: context.config.taskQueue,
          workflowId: runId('register', spec),
          args: [{ spec, externalModel }],
          ...metadata('models register', spec, `register ${path.basename(file)} for ${spec}`),
        });
        return startAndFollow<TrainPipelineResult>(context, options, handle, formatTrainResult);
      }),
    );

/** A model's input schema file: `{"features": [{"name": …, "type"?: …} or "name", …], "trained_with"?: …}`. */
function readSchema(file: string): { features: Array<{ name: string; type?: string }>; description?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--schema ${file}: not readable JSON (${(err as Error).message})`);
  }
  const { features, trained_with: trainedWith, description } = (doc ?? {}) as { features?: unknown; trained_with?: unknown; description?: unknown };
  const list = Array.isArray(features) ? features.map((f: unknown) => (typeof f === 'string' ? { name: f } : f)) : undefined;
  if (!list || list.length === 0 || !list.every((f) => typeof (f as { name?: unknown })?.name === 'string' && ['string', 'undefined'].includes(typeof (f as { type?: unknown }).type))) {
    throw new UsageError(`--schema ${file}: expected {"features": [{"name": "hour_of_day", "type": "DOUBLE"}, …]} (the type is optional) in the model's input order`);
  }
  const text = [description, trainedWith].find((t): t is string => typeof t === 'string');
  return { features: list as Array<{ name: string; type?: string }>, description: text };
}

export const promote: Define = (program, run) =>
  program
    .command('promote')
    .description('make a registered version the champion (recorded in the audit trail)')
    .argument('<pipeline>', 'the pipeline name')
    .argument('<version>', 'the version (1, 2, … as `sluice models` lists them)', modelVersion)
    .requiredOption(...REASON)
    .option(...JSON_OPTION)
    .action((pipeline, to, options) =>
      run(options, async (context) => {
        const change = await setAlias(context.client, pipeline, { alias: 'champion', version: to, actor: actor(), reason: options.reason });
        output(context, change, () => `${pipeline}: champion ${change.previous ?? '-'} → ${change.version}`);
        return 0;
      }),
    );

export const rollback: Define = (program, run) =>
  program
    .command('rollback')
    .description('put an earlier version back as champion; --reprocess rescores the days the replaced model scored')
    .argument('<spec>', 'the pipeline spec file')
    .argument('<version>', 'the version to put back', modelVersion)
    .requiredOption(...REASON)
    .option('--reprocess', 'rescore the days the replaced model scored')
    .option(...JSON_OPTION)
    .action((spec, to, options) =>
      run(options, async (context) => {
        const result = await context.client.workflow.execute(rollbackModel, {
          taskQueue: context.config.taskQueue,
          workflowId: `rollback-${Date.now()}`,
          args: [{ spec, toVersion: to, actor: actor(), reason: options.reason, reprocess: options.reprocess === true }],
        });
        output(context, result, () => `${result.model}: champion ${result.replaced ?? '-'} → ${result.champion}${result.reprocessed ? `; rescored ${result.reprocessed.published.length} days` : ''}`);
        return 0;
      }),
    );
