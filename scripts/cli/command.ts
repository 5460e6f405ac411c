import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { InvalidArgumentError, type Command as Cli } from '@commander-js/extra-typings';
import type { Client } from '@temporalio/client';
import type { SluiceConfig } from '../../workers/config';
import type { ProgressView } from './progress-bar';

/** What every command gets: the Temporal client, the configuration, where to print, and whether to print JSON. */
export interface Context {
  client: Client;
  config: SluiceConfig;
  print: (line: string) => void;
  json: boolean;
  /** Shows a run's progress: a bar redrawn in place on a terminal, else a line printed when it changes. */
  progress: (view: ProgressView) => void;
}

/** Runs a command's action once commander has parsed its line; `--json` makes the context print JSON. */
export type Runner = (options: { json?: true }, action: (context: Context) => Promise<number>) => Promise<void>;

/** Adds one command — its arguments, typed options (@commander-js/extra-typings) and action — to the program. */
export type Define = (program: Cli, run: Runner) => void;

/** A mistake in the command line: exit code 2, with the command's usage. */
export class UsageError extends Error {}

/** `--json`, which every command takes. */
export const JSON_OPTION = ['--json', 'machine-readable output'] as const;

/** Parses a whole-number option value (commander reports the mistake with the option's name). */
export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expects a whole number');
  return n;
}

/** Parses a model version: 1, 2, … or v1, v2, … as `sluice models` lists them. */
export function modelVersion(value: string): number {
  const n = Number(value.replace(/^v/, ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('is not a model version (1, 2, … as `sluice models` lists them)');
  return n;
}

/** Who is acting, for audit entries and operator decisions. */
export const actor = () => process.env.USER || os.userInfo().username;

/** Prints `value` as JSON with --json, else the readable text. */
export function output(context: Context, value: unknown, text: () => string): void {
  context.print(context.json ? JSON.stringify(value, null, 2) : text());
}

/**
 * The pipeline a spec file names (its `name:`, or the `name:` of the spec it extends), read here without
 * validating it: the workers validate it. The file's own name when it cannot be read (the workers may see
 * another folder than this command).
 */
export function pipelineNameOf(spec: string): string {
  for (let file = spec, depth = 0; depth < 4; depth++) {
    let doc: unknown;
    try {
      doc = parse(fs.readFileSync(file, 'utf8'));
    } catch {
      break;
    }
    const { name, extends: base } = (doc ?? {}) as { name?: unknown; extends?: unknown };
    if (typeof name === 'string' && /^[a-z][a-z0-9_-]{0,62}$/.test(name)) return name;
    if (typeof base !== 'string') break;
    file = path.join(path.dirname(file), base);
  }
  return path.basename(spec).replace(/\.ya?ml$/, '');
}

/** A workflow id for a run started from the command line: `<kind>-<pipeline>-<time>`. */
export function runId(kind: string, spec: string, extra = ''): string {
  return `${kind}-${pipelineNameOf(spec)}${extra ? `-${extra}` : ''}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
}
