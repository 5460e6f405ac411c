/**
 * The `sluice` command: runs, schedules, the model registry and costs, on the Temporal cluster at
 * TEMPORAL_ADDRESS (see README "Configuration"). `sluice --help` lists the commands, `sluice <command>
 * --help` explains one. Add --json for machine-readable output. Parsed by commander: an unknown or misspelt
 * command or option is refused, with a suggestion.
 * Exit codes: 0 done, 1 the run or request failed, 2 a usage mistake, 3 Temporal cannot be reached, 4 the run
 * waits for an operator (a step failed; `sluice resume <run> retry|skip|abort` answers it).
 */
import { Command as Cli, CommanderError } from '@commander-js/extra-typings';
import { Client, Connection } from '@temporalio/client';
import { connectionOptions, loadConfig, type SluiceConfig } from '../workers/config';
import { dataConverterOf } from '../workers/codec/data-converter';
import { rootMessage } from '../contracts/root-cause';
import { UsageError, type Context, type Define, type Runner } from './cli/command';
import { progressText, TerminalProgress, type ProgressView } from './cli/progress-bar';
import { cost, runs, status } from './cli/inspect-commands';
import { models, promote, rollback } from './cli/registry-commands';
import { backfillCommand, infer, resume, train } from './cli/run-commands';
import { schedule } from './cli/schedule-commands';
import { tune } from './cli/tune-commands';
import { sink } from './cli/sink-commands';
import { workers } from './cli/workers-commands';
import { drift } from './cli/drift-commands';
import { codec } from './cli/codec-commands';

const COMMANDS: Define[] = [train, infer, backfillCommand, runs, status, cost, drift, resume, tune, models, promote, rollback, schedule, sink, workers, codec];

/** Temporal could not be reached: exit code 3. */
class Unreachable extends Error {}

/** The `sluice` program with every command; help goes to `print`, commander's own error lines nowhere (they are thrown). */
function program(runner: Runner, print: (line: string) => void): Cli {
  const cli = new Cli('sluice')
    .description('Durable batch-AI pipelines on Temporal: runs, schedules, the model registry and costs.')
    .addHelpText('after', '\nExit codes: 0 done, 1 failed, 2 usage, 3 Temporal unreachable, 4 the run waits for an operator (answer it with `sluice resume`). `sluice <command> --help` explains one.')
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ writeOut: (text) => print(text.trimEnd()), writeErr: () => undefined });
  // Commands created after this inherit the error handling, the suggestions and the output routing.
  for (const define of COMMANDS) define(cli, runner);
  return cli;
}

/**
 * Runs one command line; returns the exit code. Usage mistakes throw {@link UsageError}. `client` may be a
 * function that connects on first use, so `--help` and usage mistakes need no server.
 */
export async function run(argv: string[], client: Client | (() => Promise<Client>), print: (line: string) => void, config: SluiceConfig = loadConfig(), progress?: (view: ProgressView) => void): Promise<number> {
  let code = 0;
  const runner: Runner = async (options, action) => {
    const context: Context = { client: typeof client === 'function' ? await client() : client, config, print, json: options.json === true, progress: progress ?? ((view) => print(progressText(view))) };
    code = await action(context);
  };
  try {
    await program(runner, print).parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0) return 0; // --help, or no command: the help was printed
    throw new UsageError(err.message.replace(/^error: /, ''));
  }
  return code;
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const config = loadConfig();
  let connection: Connection | undefined;
  const connect = async (): Promise<Client> => {
    try {
      connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: 5_000 });
    } catch (err) {
      throw new Unreachable(`cannot reach Temporal at ${config.address} (${rootMessage(err)}); start a dev server with \`npm run server -- start\`, or set TEMPORAL_ADDRESS (and TLS / API key settings, see README)`);
    }
    return new Client({ connection, namespace: config.namespace, dataConverter: dataConverterOf(config.codecKeys) });
  };
  const terminal = process.stdout.isTTY === true ? new TerminalProgress(process.stdout) : undefined;
  const print = (line: string) => {
    terminal?.stop();
    console.log(line);
  };
  try {
    const code = await run(argv.length === 0 ? ['--help'] : argv, connect, print, config, terminal && ((view) => terminal.show(view)));
    terminal?.stop();
    return argv.length === 0 ? 2 : code;
  } catch (err) {
    if (err instanceof UsageError) {
      const command = err.message.startsWith('unknown command') ? '' : `${argv[0]} `;
      console.error(`sluice: ${err.message}\n(see \`sluice ${command}--help\`)`);
      return 2;
    }
    console.error(`sluice: ${err instanceof Unreachable ? err.message : rootMessage(err)}`);
    return err instanceof Unreachable ? 3 : 1;
  } finally {
    await connection?.close();
  }
}

if (require.main === module) main().then((code) => process.exit(code));
