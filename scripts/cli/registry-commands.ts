import { queryRegistry, setAlias } from '../../activities/registry';
import { rollbackModel } from '../../workflows/rollback';
import { actor, JSON_OPTION, modelVersion, output, type Define } from './command';
import { table } from './table';

/** --reason, which an alias change needs: it goes into the audit trail. */
const REASON = ['--reason <why>', 'why, for the audit trail'] as const;

export const models: Define = (program, run) =>
  program
    .command('models')
    .description("a pipeline's registered model versions: aliases, origin, AUC, artifact, and the audit trail of alias changes")
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
            [{ head: 'version' }, { head: 'aliases' }, { head: 'origin' }, { head: 'AUC', right: true }, { head: 'registered' }, { head: 'artifact' }],
            registry.versions.map((v) => [`v${v.version}`, alias(v.version) || '-', v.origin ?? 'trained', v.metrics ? v.metrics.auc.toFixed(4) : '-', v.registeredAt, v.artifactUri]),
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
