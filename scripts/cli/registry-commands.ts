import { queryRegistry, setAlias } from '../../activities/registry';
import { rollbackModel } from '../../workflows/rollback';
import { actor, output, UsageError, type Command } from './command';

export const models: Command = {
  usage: 'models <pipeline>',
  summary: "a pipeline's registered model versions: aliases, origin, AUC, artifact, and the audit trail of alias changes",
  async run(context, args) {
    const pipeline = args.need(0, 'the pipeline name');
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
      const lines = registry.versions.map(
        (v) => `v${v.version}  ${(alias(v.version) || '-').padEnd(18)} ${v.origin ?? 'trained'}  AUC ${v.metrics ? v.metrics.auc.toFixed(4) : '  -   '}  ${v.registeredAt}  ${v.artifactUri}`,
      );
      const audit = registry.audit.map((a) => `  ${a.at} ${a.alias} ${a.previous ?? '-'} → ${a.version ?? '-'} by ${a.actor}: ${a.reason}`);
      return [...lines, 'audit:', ...audit].join('\n');
    });
    return 0;
  },
};

function reason(value: string | undefined): string {
  if (!value) throw new UsageError('missing --reason "<why>" (it goes into the audit trail)');
  return value;
}

function version(value: string): number {
  const n = Number(value.replace(/^v/, ''));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`"${value}" is not a model version (1, 2, … as \`sluice models\` lists them)`);
  return n;
}

export const promote: Command = {
  usage: 'promote <pipeline> <version> --reason "<why>"',
  summary: 'make a registered version the champion (recorded in the audit trail)',
  async run(context, args) {
    const pipeline = args.need(0, 'the pipeline name');
    const to = version(args.need(1, 'the version'));
    const change = await setAlias(context.client, pipeline, { alias: 'champion', version: to, actor: actor(), reason: reason(args.value('--reason')) });
    output(context, change, () => `${pipeline}: champion ${change.previous ?? '-'} → ${change.version}`);
    return 0;
  },
};

export const rollback: Command = {
  usage: 'rollback <spec.yaml> <version> --reason "<why>" [--reprocess]',
  summary: 'put an earlier version back as champion; --reprocess rescores the days the replaced model scored',
  async run(context, args) {
    const spec = args.need(0, 'the spec file');
    const to = version(args.need(1, 'the version'));
    const result = await context.client.workflow.execute(rollbackModel, {
      taskQueue: context.config.taskQueue,
      workflowId: `rollback-${Date.now()}`,
      args: [{ spec, toVersion: to, actor: actor(), reason: reason(args.value('--reason')), reprocess: args.has('--reprocess') }],
    });
    output(context, result, () => `${result.model}: champion ${result.replaced ?? '-'} → ${result.champion}${result.reprocessed ? `; rescored ${result.reprocessed.published.length} days` : ''}`);
    return 0;
  },
};
