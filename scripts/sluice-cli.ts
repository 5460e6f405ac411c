/**
 * The `sluice` command: runs, schedules, the model registry and costs, on the Temporal cluster at
 * TEMPORAL_ADDRESS (see README "Configuration"). `sluice --help` lists the commands, `sluice <command>
 * --help` explains one. Add --json for machine-readable output.
 * Exit codes: 0 done, 1 the run or request failed, 2 a usage mistake, 3 Temporal cannot be reached.
 */
import { Client, Connection } from '@temporalio/client';
import { connectionOptions, loadConfig, type SluiceConfig } from '../workers/config';
import { Args, UsageError, type Command, type Context } from './cli/command';
import { rootMessage } from '../contracts/root-cause';
import { cost, runs, status } from './cli/inspect-commands';
import { models, promote, rollback } from './cli/registry-commands';
import { backfillCommand, infer, resume, train } from './cli/run-commands';
import { schedule } from './cli/schedule-commands';

const COMMANDS: Record<string, Command> = { train, infer, backfill: backfillCommand, runs, status, cost, resume, models, promote, rollback, schedule };

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'usage: sluice <command> [arguments] [--json]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    '`sluice <command> --help` shows a command\'s arguments. Exit codes: 0 done, 1 failed, 2 usage, 3 Temporal unreachable.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [`usage: sluice ${command.usage}`, '', command.summary, ...(command.details ?? []), '', 'options: --json (machine-readable output), --help'].join('\n');
}

/** Runs one command line against `client`; returns the exit code. Usage mistakes throw {@link UsageError}. */
export async function run(argv: string[], client: Client, print: (line: string) => void, config: SluiceConfig = loadConfig(), progress?: (line: string) => void): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) throw new UsageError(name ? `unknown command "${name}"` : 'no command');
  const args = new Args(rest);
  if (args.has('--help')) {
    print(commandHelp(command));
    return 0;
  }
  const context: Context = { client, config, print, json: args.has('--json'), progress: progress ?? print };
  return command.run(context, args);
}

/** A progress line redrawn in place on a terminal. */
function terminalProgress(line: string): void {
  process.stdout.write(`\r\x1b[K${line.slice(0, (process.stdout.columns || 120) - 1)}`);
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(help());
    return argv.length === 0 ? 2 : 0;
  }
  if (COMMANDS[argv[0]] && (argv.includes('--help') || argv.includes('-h'))) {
    console.log(commandHelp(COMMANDS[argv[0]]));
    return 0;
  }
  const config = loadConfig();
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: 5_000 });
  } catch (err) {
    console.error(`sluice: cannot reach Temporal at ${config.address} (${rootMessage(err)}); start a dev server with \`npm run server -- start\`, or set TEMPORAL_ADDRESS (and TLS / API key settings, see README)`);
    return 3;
  }
  const live = process.stdout.isTTY === true;
  try {
    const code = await run(argv, new Client({ connection, namespace: config.namespace }), (line) => console.log(line), config, live ? terminalProgress : undefined);
    if (live) process.stdout.write('\n');
    return code;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`sluice: ${err.message}\n${commandHelp(COMMANDS[argv[0]] ?? { usage: '<command> …', summary: 'see sluice --help', run: async () => 2 })}`);
      return 2;
    }
    console.error(`sluice: ${rootMessage(err)}`);
    return 1;
  } finally {
    await connection.close();
  }
}

if (require.main === module) main().then((code) => process.exit(code));

