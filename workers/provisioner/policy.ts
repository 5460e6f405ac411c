import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { didYouMean } from '../../contracts/closest-names';
import { DEFAULT_REGISTRY_TASK_QUEUE } from '../../contracts/registry';

/** The worker kinds the provisioner knows how to start; a pool may give its own command instead. */
export const WORKER_KINDS = ['typescript', 'python'] as const;
export type WorkerKind = (typeof WORKER_KINDS)[number];

/** The workers of one task queue: how many, when to add or remove one, and how to start one. */
export interface PoolPolicy {
  /** The task queue the pool's workers poll (the key under `queues:`). */
  queue: string;
  kind: WorkerKind;
  /**
   * The queues whose backlog the pool serves: the queue itself, and the others its workers poll: the model
   * registry's queue for a TypeScript worker, the sampler and sinks queues for a Python worker.
   */
  watch: string[];
  min: number;
  max: number;
  /** Tasks waiting per worker the pool aims at: a backlog of 5 with a target of 2 wants 3 workers. */
  targetBacklog: number;
  /** Least time between two scale-ups, and between two scale-downs, of this pool. */
  scaleUpCooldownSeconds: number;
  scaleDownCooldownSeconds: number;
  /** How long a worker has run nothing before it may be stopped. */
  idleTimeoutSeconds: number;
  /** How long a stopped worker may drain (finish or checkpoint its tasks) before it is killed. */
  drainSeconds: number;
  /** Most worker-seconds this pool may use per UTC day; a backlog that would need more waits. */
  maxWorkerSecondsPerDay?: number;
  /** The worker's program and arguments, run from `cwd` with `env` added to the provisioner's environment. */
  command: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface WorkersPolicy {
  /** How often the backlog is read. */
  pollSeconds: number;
  /** Where the provisioner keeps its state file, its ledger and the workers' logs. */
  stateDir: string;
  pools: PoolPolicy[];
}

/** A policy file that cannot be used: every mistake found, each with where it is. */
export class PolicyError extends Error {}

const ROOT = path.resolve(__dirname, '..', '..');
const TOP_KEYS = ['poll_seconds', 'state_dir', 'queues'];
const POOL_KEYS = ['kind', 'watch', 'min', 'max', 'target_backlog', 'scale_up_cooldown_seconds', 'scale_down_cooldown_seconds', 'idle_timeout_seconds', 'drain_seconds', 'max_worker_seconds_per_day', 'command', 'cwd', 'env'];
/** The Python worker's other queues, named after its trainer queue (workers/python/sluice_python/worker.py). */
const PYTHON_QUEUE_SUFFIXES = ['', '-sampler', '-sinks'];

/** How each kind of worker starts, polling `queue`. */
function defaultCommand(kind: WorkerKind, queue: string): Pick<PoolPolicy, 'command' | 'cwd' | 'env'> {
  if (kind === 'python') {
    return { command: [path.join(ROOT, '.tools', 'venv', 'bin', 'python'), '-m', 'sluice_python.worker'], cwd: path.join(ROOT, 'workers', 'python'), env: { SLUICE_PYTHON_TASK_QUEUE: queue } };
  }
  // node with tsx as a loader, not the tsx launcher: a signal reaches the worker itself.
  return { command: [process.execPath, '--import', 'tsx', path.join(ROOT, 'workers', 'main.ts')], cwd: ROOT, env: { SLUICE_TASK_QUEUE: queue } };
}

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads and validates a policy: `file` (YAML), with paths in it relative to the file's folder. */
export function loadPolicy(file: string): WorkersPolicy {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new PolicyError(`${file}: not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  return parsePolicy(value, path.dirname(path.resolve(file)), file);
}

/** Validates a parsed policy; every mistake is reported at once, as `where: what`. */
export function parsePolicy(value: unknown, baseDir: string, source = 'policy'): WorkersPolicy {
  const errors: string[] = [];
  const unknownKeys = (fields: Fields, allowed: string[], where: string) => {
    for (const key of Object.keys(fields)) {
      if (!allowed.includes(key)) {
        const hint = didYouMean(key, allowed);
        errors.push(`${where}${key}: unknown setting${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${allowed.join(', ')}`);
      }
    }
  };
  const number = (fields: Fields, key: string, where: string, fallback: number | undefined, least: number, whole: boolean): number | undefined => {
    const raw = fields[key];
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < least || (whole && !Number.isInteger(raw))) {
      errors.push(`${where}${key}: ${JSON.stringify(raw)} is not ${whole ? 'a whole number' : 'a number'} of at least ${least}`);
      return fallback;
    }
    return raw;
  };
  if (!isFields(value)) throw new PolicyError(`${source}: expected a mapping with \`queues:\`, found ${value === null || value === undefined ? 'nothing' : typeof value}`);
  unknownKeys(value, TOP_KEYS, '');
  const pollSeconds = number(value, 'poll_seconds', '', 5, 0.2, false) ?? 5;
  const stateDir = typeof value.state_dir === 'string' ? path.resolve(baseDir, value.state_dir) : path.join(ROOT, '.sluice', 'workers');
  if (value.state_dir !== undefined && typeof value.state_dir !== 'string') errors.push('state_dir: expected a folder path');
  const queues = value.queues;
  const pools: PoolPolicy[] = [];
  if (!isFields(queues) || Object.keys(queues).length === 0) {
    errors.push('queues: expected at least one task queue, e.g. `queues: { sluice: { kind: typescript, max: 2 } }`');
  } else {
    for (const [queue, raw] of Object.entries(queues)) {
      const where = `queues.${queue}.`;
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(queue)) errors.push(`queues.${queue}: not a task queue name (letters, digits, '.', '_' and '-')`);
      if (!isFields(raw)) {
        errors.push(`queues.${queue}: expected a mapping (kind, min, max, …)`);
        continue;
      }
      unknownKeys(raw, POOL_KEYS, where);
      const kind = raw.kind ?? 'typescript';
      if (typeof kind !== 'string' || !(WORKER_KINDS as readonly string[]).includes(kind)) {
        errors.push(`${where}kind: ${JSON.stringify(kind)} is not one of ${WORKER_KINDS.join(', ')}`);
        continue;
      }
      const min = number(raw, 'min', where, 0, 0, true) ?? 0;
      const max = number(raw, 'max', where, Math.max(1, min), 1, true) ?? 1;
      if (min > max) errors.push(`${where}min: ${min} is more than max (${max})`);
      const defaults = defaultCommand(kind as WorkerKind, queue);
      let command = defaults.command;
      if (raw.command !== undefined) {
        if (Array.isArray(raw.command) && raw.command.length > 0 && raw.command.every((c) => typeof c === 'string' && c.length > 0)) command = raw.command as string[];
        else errors.push(`${where}command: expected a list of strings (the program, then its arguments)`);
      }
      const env: Record<string, string> = { ...defaults.env };
      if (raw.env !== undefined) {
        if (!isFields(raw.env)) errors.push(`${where}env: expected a mapping of variable names to values`);
        else {
          for (const [name, v] of Object.entries(raw.env)) {
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) errors.push(`${where}env.${name}: not an environment variable name`);
            else if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') errors.push(`${where}env.${name}: expected a string`);
            else env[name] = String(v);
          }
        }
      }
      let watch = kind === 'python' ? PYTHON_QUEUE_SUFFIXES.map((s) => `${queue}${s}`) : [queue, env.SLUICE_REGISTRY_TASK_QUEUE ?? process.env.SLUICE_REGISTRY_TASK_QUEUE ?? DEFAULT_REGISTRY_TASK_QUEUE];
      if (raw.watch !== undefined) {
        if (Array.isArray(raw.watch) && raw.watch.length > 0 && raw.watch.every((q) => typeof q === 'string' && q.length > 0)) watch = raw.watch as string[];
        else errors.push(`${where}watch: expected a list of task queue names`);
      }
      pools.push({
        queue,
        kind: kind as WorkerKind,
        watch,
        min,
        max,
        targetBacklog: number(raw, 'target_backlog', where, 1, 1, true) ?? 1,
        scaleUpCooldownSeconds: number(raw, 'scale_up_cooldown_seconds', where, 10, 0, false) ?? 10,
        scaleDownCooldownSeconds: number(raw, 'scale_down_cooldown_seconds', where, 30, 0, false) ?? 30,
        idleTimeoutSeconds: number(raw, 'idle_timeout_seconds', where, 60, 0, false) ?? 60,
        drainSeconds: number(raw, 'drain_seconds', where, 30, 0, false) ?? 30,
        maxWorkerSecondsPerDay: number(raw, 'max_worker_seconds_per_day', where, undefined, 1, false),
        command,
        cwd: typeof raw.cwd === 'string' ? path.resolve(baseDir, raw.cwd) : defaults.cwd,
        env,
      });
      if (raw.cwd !== undefined && typeof raw.cwd !== 'string') errors.push(`${where}cwd: expected a folder path`);
    }
  }
  if (errors.length > 0) throw new PolicyError(`${source}: ${errors.length === 1 ? errors[0] : `${errors.length} mistakes:\n  ${errors.join('\n  ')}`}`);
  return { pollSeconds, stateDir, pools };
}
