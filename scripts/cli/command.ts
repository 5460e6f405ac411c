import os from 'node:os';
import type { Client } from '@temporalio/client';
import type { SluiceConfig } from '../../workers/config';

/** What every command gets: the Temporal client, the configuration, where to print, and whether to print JSON. */
export interface Context {
  client: Client;
  config: SluiceConfig;
  print: (line: string) => void;
  json: boolean;
  /** Shows a run's progress line: redrawn in place on a terminal, else printed when it changes. */
  progress: (line: string) => void;
}

export interface Command {
  /** `sluice <usage>`, e.g. `train <spec.yaml> [--no-wait]`. */
  usage: string;
  summary: string;
  /** Lines of detail shown by `sluice <command> --help`. */
  details?: string[];
  run(context: Context, args: Args): Promise<number>;
}

/** A mistake in the command line: exit code 2, with the command's usage. */
export class UsageError extends Error {}

/** Options that take a value; every other `--flag` is a boolean switch. */
const VALUED = new Set(['--reason', '--step', '--model-version', '--concurrency', '--pipeline', '--status', '--type', '--limit', '--interval']);

/** Parsed command-line words: positional arguments, `--option value` pairs and `--switch`es. */
export class Args {
  readonly positional: string[] = [];
  private readonly values = new Map<string, string>();
  private readonly switches = new Set<string>();

  constructor(argv: string[]) {
    for (let i = 0; i < argv.length; i++) {
      const word = argv[i];
      if (VALUED.has(word)) {
        const value = argv[++i];
        if (value === undefined || value.startsWith('--')) throw new UsageError(`${word} needs a value`);
        this.values.set(word, value);
      } else if (word.startsWith('--') || word === '-h') {
        this.switches.add(word === '-h' ? '--help' : word);
      } else {
        this.positional.push(word);
      }
    }
  }

  has(flag: string): boolean {
    return this.switches.has(flag);
  }

  value(option: string): string | undefined {
    return this.values.get(option);
  }

  /** The n-th positional argument (after the command words), or a usage error naming what is missing. */
  need(index: number, what: string): string {
    const value = this.positional[index];
    if (value === undefined) throw new UsageError(`missing ${what}`);
    return value;
  }

  integer(option: string): number | undefined {
    const raw = this.values.get(option);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${option} expects a whole number, got "${raw}"`);
    return n;
  }
}

/** Who is acting, for audit entries and operator decisions. */
export const actor = () => process.env.USER || os.userInfo().username;

/** Prints `value` as JSON with --json, else the readable text. */
export function output(context: Context, value: unknown, text: () => string): void {
  context.print(context.json ? JSON.stringify(value, null, 2) : text());
}

/** A workflow id for a run started from the command line: `<kind>-<pipeline file>-<time>`. */
export function runId(kind: string, spec: string, extra = ''): string {
  const name = spec.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  return `${kind}-${name}${extra ? `-${extra}` : ''}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
}
