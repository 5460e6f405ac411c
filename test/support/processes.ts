import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PYTHON_WORKER } from '../../scripts/python-worker';

const ROOT = path.resolve(__dirname, '..', '..');

/** Spawns `command` and resolves once its output contains `ready`; rejects if it exits first or takes over 60 s. */
async function startProcess(what: string, command: string, args: string[], cwd: string, env: Record<string, string>, ready: string): Promise<ChildProcess> {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s:\n${output}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before polling:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

/** A real worker process (`workers/main.ts`) for the given server, queue and artifact root; resolves once it polls. */
export function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  // node itself with tsx as a loader (not the tsx launcher, which would leave its node child alive on SIGKILL)
  return startProcess('worker', process.execPath, ['--import', 'tsx', 'workers/main.ts'], ROOT, env, 'sluice worker polling');
}

/** The compiled worker `npm run build` writes into `dir` (node, no tsx); resolves once it polls with its prebuilt workflow bundle. */
export function startCompiledWorker(dir: string, env: Record<string, string>): Promise<ChildProcess> {
  return startProcess('compiled worker', process.execPath, [path.join(dir, 'workers', 'main.js')], ROOT, env, 'workflows from the prebuilt bundle');
}

/** A real Python worker process (`python -m sluice_python.worker`, the project's venv) polling `taskQueue`. */
export function startPythonWorker(env: { TEMPORAL_ADDRESS: string; SLUICE_PYTHON_TASK_QUEUE: string; SLUICE_ARTIFACTS: string; SLUICE_PYTHON_SLOTS?: string }): Promise<ChildProcess> {
  return startProcess('the Python worker', PYTHON_WORKER.command, PYTHON_WORKER.args, PYTHON_WORKER.cwd, env, 'sluice python worker polling');
}

/** SIGKILLs a process and waits until it is gone. */
export async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
