/**
 * The `sluice` command: schedules, the model registry, rollback and run status, on the Temporal cluster
 * at TEMPORAL_ADDRESS. Training, inference and operator answers are `npm run train|infer|resume`.
 *   sluice schedule apply <spec> | list | describe <id> | pause <id> | unpause <id> | trigger <id> | delete <id> | backfill <id> <from> <to>
 *   sluice models <pipeline>             versions, lineage, aliases and audit
 *   sluice promote <pipeline> <version> --reason "…"
 *   sluice rollback <spec> <version> --reason "…" [--reprocess]
 *   sluice status <workflowId>           a run's progress
 * Add --json for machine-readable output. Exit codes: 0 done, 1 failed, 2 usage.
 */
import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { queryRegistry, setAlias } from '../activities/registry';
import { loadConfig } from '../workers/config';
import { rollbackModel } from '../workflows/rollback';
import { applySchedules } from './schedules';

const USAGE = `usage:
  sluice schedule apply <spec.yaml>
  sluice schedule list | describe <id> | pause <id> | unpause <id> | trigger <id> | delete <id>
  sluice schedule backfill <id> <from ISO time> <to ISO time>
  sluice models <pipeline>
  sluice promote <pipeline> <version> --reason "<why>"
  sluice rollback <spec.yaml> <version> --reason "<why>" [--reprocess]
  sluice status <workflowId>
options: --json (machine-readable output), --help`;

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function positional(args: string[]): string[] {
  return args.filter((a, i) => !a.startsWith('--') && !(i > 0 && ['--reason'].includes(args[i - 1])));
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

const actor = () => process.env.USER || os.userInfo().username;

export async function run(argv: string[], client: Client, print: (line: string) => void): Promise<number> {
  const json = argv.includes('--json');
  const [command, ...rest] = positional(argv);
  const out = (value: unknown, text: () => string) => print(json ? JSON.stringify(value, null, 2) : text());
  const config = loadConfig();
  switch (command) {
    case 'schedule': {
      const [sub, id, from, to] = rest;
      if (sub === 'apply') {
        const applied = await applySchedules(client, config, need(id, 'the spec file'));
        out(applied, () => applied.map((a) => `${a.created ? 'created' : 'updated'} ${a.id}: ${a.job} ${a.cadence}`).join('\n'));
        return 0;
      }
      if (sub === 'list') {
        const rows: Array<{ id: string; paused: boolean; next?: string; workflowType?: string }> = [];
        for await (const s of client.schedule.list()) {
          if (!s.scheduleId.startsWith('sluice-')) continue;
          rows.push({ id: s.scheduleId, paused: s.state.paused, next: s.info.nextActionTimes[0]?.toISOString(), workflowType: s.action?.workflowType });
        }
        out(rows, () => (rows.length === 0 ? 'no sluice schedules' : rows.map((r) => `${r.id.padEnd(36)} ${r.paused ? 'paused ' : 'active '} next ${r.next ?? '-'}`).join('\n')));
        return 0;
      }
      const handle = client.schedule.getHandle(need(id, 'the schedule id'));
      switch (sub) {
        case 'describe': {
          const d = await handle.describe();
          out(d, () => `${d.scheduleId}: ${d.state.paused ? 'paused' : 'active'}, ${d.info.recentActions.length} recent runs, next ${d.info.nextActionTimes[0]?.toISOString() ?? '-'}`);
          return 0;
        }
        case 'pause':
          await handle.pause(`paused by ${actor()}`);
          break;
        case 'unpause':
          await handle.unpause(`unpaused by ${actor()}`);
          break;
        case 'trigger':
          await handle.trigger();
          break;
        case 'delete':
          await handle.delete();
          break;
        case 'backfill':
          await handle.backfill({ start: new Date(need(from, 'the start time')), end: new Date(need(to, 'the end time')) });
          break;
        default:
          throw new UsageError(`unknown schedule command "${sub ?? ''}"`);
      }
      out({ id, done: sub }, () => `${sub}: ${id}`);
      return 0;
    }
    case 'models': {
      const pipeline = need(rest[0], 'the pipeline name');
      const registry = await queryRegistry(client, pipeline);
      if (!registry) {
        print(`no models registered for ${pipeline}: train one with \`npm run train -- pipelines/${pipeline}.yaml\``);
        return 1;
      }
      out(registry, () => {
        const alias = (v: number) => Object.entries(registry.aliases).filter(([, n]) => n === v).map(([a]) => a).join(',');
        const lines = registry.versions.map(
          (v) => `v${v.version}  ${(alias(v.version) || '-').padEnd(18)} ${v.origin ?? 'trained'}  AUC ${v.metrics ? v.metrics.auc.toFixed(4) : '  -   '}  ${v.registeredAt}  ${v.artifactUri}`,
        );
        const audit = registry.audit.map((a) => `  ${a.at} ${a.alias} ${a.previous ?? '-'} → ${a.version ?? '-'} by ${a.actor}: ${a.reason}`);
        return [...lines, 'audit:', ...audit].join('\n');
      });
      return 0;
    }
    case 'promote': {
      const [pipeline, version] = rest;
      const change = await setAlias(client, need(pipeline, 'the pipeline name'), {
        alias: 'champion',
        version: Number(need(version, 'the version')),
        actor: actor(),
        reason: need(option(argv, '--reason'), '--reason "<why>"'),
      });
      out(change, () => `${pipeline}: champion ${change.previous ?? '-'} → ${change.version}`);
      return 0;
    }
    case 'rollback': {
      const [spec, version] = rest;
      const result = await client.workflow.execute(rollbackModel, {
        taskQueue: config.taskQueue,
        workflowId: `rollback-${Date.now()}`,
        args: [{ spec: need(spec, 'the spec file'), toVersion: Number(need(version, 'the version')), actor: actor(), reason: need(option(argv, '--reason'), '--reason "<why>"'), reprocess: argv.includes('--reprocess') }],
      });
      out(result, () => `${result.model}: champion ${result.replaced ?? '-'} → ${result.champion}${result.reprocessed ? `; rescored ${result.reprocessed.published.length} days` : ''}`);
      return 0;
    }
    case 'status': {
      const handle = client.workflow.getHandle(need(rest[0], 'the workflow id'));
      const [described, progress] = await Promise.all([handle.describe(), handle.query<Record<string, unknown>>('progress').catch(() => undefined)]);
      const value = { workflowId: described.workflowId, type: described.type, status: described.status.name, progress };
      out(value, () => `${described.workflowId} (${described.type}): ${described.status.name}\n${JSON.stringify(progress ?? {}, null, 2)}`);
      return described.status.name === 'FAILED' ? 1 : 0;
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command');
  }
}

export async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const config = loadConfig();
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.address, connectTimeout: 5_000 });
  } catch {
    console.error(`sluice: cannot reach Temporal at ${config.address}; start a dev server with \`npm run server -- start\` or set TEMPORAL_ADDRESS`);
    return 1;
  }
  try {
    return await run(argv, new Client({ connection, namespace: config.namespace }), (line) => console.log(line));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
      return 2;
    }
    let root = err as { message?: string; cause?: unknown } | undefined;
    while (root?.cause) root = root.cause as typeof root;
    console.error(`sluice: ${root?.message ?? String(err)}`);
    return 1;
  } finally {
    await connection.close();
  }
}

if (require.main === module) main().then((code) => process.exit(code));
