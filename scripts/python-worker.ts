import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

/** How the Python worker (LightGBM training) starts: the project's venv Python, `-m sluice_python.worker`, from workers/python. */
export const PYTHON_WORKER = { command: path.join(ROOT, '.tools', 'venv', 'bin', 'python'), args: ['-m', 'sluice_python.worker'], cwd: path.join(ROOT, 'workers', 'python') };

/** The Python worker as a child process with `env` added to this process's; runs wait on its queue until it polls. */
export function spawnPythonWorker(env: Record<string, string>, stdio: StdioOptions = ['ignore', 'ignore', 'inherit']): ChildProcess {
  return spawn(PYTHON_WORKER.command, PYTHON_WORKER.args, { cwd: PYTHON_WORKER.cwd, env: { ...process.env, ...env }, stdio });
}
