/**
 * Temporal dev server lifecycle: `install` | `start` | `stop` | `status`.
 *   tsx scripts/temporal-server.ts start [--port 7233] [--ui-port 8233] [--headless] [--state-dir DIR]
 * State (SQLite file, pid, log) lives in .sluice/temporal/ (or --state-dir / SLUICE_SERVER_STATE), one
 * database per port, and survives restarts.
 */
import { loadConfig } from '../workers/config';
import path from 'node:path';
import { frontendAnswers, installTemporalCli, SERVER_DIR, startDevServer, stopDevServer } from './dev-server';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  const config = loadConfig();
  const configuredPort = Number(config.address.split(':').pop() ?? 7233);
  const port = Number(flag(args, '--port') ?? configuredPort);
  const stateDir = path.resolve(flag(args, '--state-dir') ?? SERVER_DIR);
  switch (command) {
    case 'install':
      installTemporalCli();
      return 0;
    case 'start': {
      installTemporalCli();
      if (await frontendAnswers(`127.0.0.1:${port}`)) {
        console.log(`A Temporal server already answers on port ${port}${port === configuredPort ? ` (Web UI: ${config.uiUrl})` : ''}.`);
        return 0;
      }
      const server = await startDevServer({ port, uiPort: Number(flag(args, '--ui-port') ?? 8233), headless: args.includes('--headless'), stateDir });
      console.log(`Temporal dev server running at ${server.address} (pid ${server.pid}, log ${server.logFile})`);
      if (server.uiUrl) console.log(`Web UI: ${server.uiUrl}`);
      if (port !== configuredPort) console.log(`Point the CLI and the workers at it: export TEMPORAL_ADDRESS=localhost:${port}`);
      return 0;
    }
    case 'stop':
      console.log((await stopDevServer(port, stateDir)) ? `Stopped the dev server on port ${port}.` : `No dev server of ours runs on port ${port}.`);
      return 0;
    case 'status':
      console.log((await frontendAnswers(`127.0.0.1:${port}`)) ? `Temporal answers on port ${port}.` : `Nothing answers on port ${port}.`);
      return 0;
    default:
      console.error('usage: temporal-server.ts install | start [--port N] [--ui-port N] [--headless] [--state-dir DIR] | stop [--port N] [--state-dir DIR] | status [--port N]');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
