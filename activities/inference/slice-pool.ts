import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ApplicationFailure } from '@temporalio/common';
import type { SerializedError, SliceMessage, SliceTask } from './slice-task';

/** A scoring thread left idle this long ends (its scorer and DuckDB module freed); the next slice starts another. */
const IDLE_MS = 60_000;

/**
 * The scoring threads of this process, at most one per core, shared by every shard it scores. A thread is
 * started when a slice needs one and none is idle, kept for the next slice (unreferenced, so it never holds the
 * process open), and ended after {@link IDLE_MS} idle or if it dies. Written here rather than with a pool library
 * because a slice is a conversation, not a call: it reports progress while it runs, it is stopped through shared
 * memory within a chunk (a cancelled run, a failed sibling), and the thread keeps its scorer for the next slice.
 */
class SlicePool {
  private readonly idle: { worker: Worker; timer: NodeJS.Timeout }[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private started = 0;

  constructor(private readonly max: number) {}

  /** Scores one slice on a thread; `onProgress` gets the rows scored since its last call. */
  async run(task: SliceTask, onProgress: (rows: number) => void): Promise<{ rows: number; unseen: Record<string, Record<string, number>>; bins?: Record<string, number[]> }> {
    const worker = await this.acquire();
    return new Promise((resolve, reject) => {
      const finish = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (message: SliceMessage) => {
        if (message.kind === 'progress') return onProgress(message.rows);
        finish();
        this.release(worker);
        if (message.kind === 'done') resolve({ rows: message.rows, unseen: message.unseen, ...(message.bins ? { bins: message.bins } : {}) });
        else reject(deserialized(message.error));
      };
      const onError = (err: Error) => {
        finish();
        this.discard(worker);
        reject(err);
      };
      const onExit = (code: number) => {
        finish();
        this.discard(worker);
        reject(new Error(`a scoring thread exited with code ${code} while it scored ${task.window.from} .. ${task.window.to}`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.ref();
      worker.postMessage(task);
    });
  }

  private acquire(): Promise<Worker> {
    const idle = this.idle.pop();
    if (idle) {
      clearTimeout(idle.timer);
      return Promise.resolve(idle.worker);
    }
    if (this.started < this.max) {
      this.started++;
      return Promise.resolve(spawnScoringThread());
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) return next(worker);
    worker.unref();
    const timer = setTimeout(() => {
      const at = this.idle.findIndex((i) => i.worker === worker);
      if (at >= 0) this.idle.splice(at, 1);
      this.discard(worker);
    }, IDLE_MS);
    timer.unref();
    this.idle.push({ worker, timer });
  }

  private discard(worker: Worker): void {
    this.started--;
    void worker.terminate();
    const next = this.waiting.shift();
    if (next) {
      this.started++;
      next(spawnScoringThread());
    }
  }
}

/**
 * A thread running slice-worker: the compiled JavaScript in production, the TypeScript (through tsx) from source.
 * tsx is named by its resolved path: an eval'd thread resolves bare names from the working directory, which need
 * not be the project's (a worker started in a folder of its own).
 */
export function spawnScoringThread(): Worker {
  if (!__filename.endsWith('.ts')) return new Worker(path.join(__dirname, 'slice-worker.js'));
  const tsx = require.resolve('tsx/cjs/api');
  const entry = path.join(__dirname, 'slice-worker.ts');
  return new Worker(`require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});`, { eval: true });
}

/** The thread's error as this thread's: an ApplicationFailure keeps its type and retryability (a data error stays non-retryable). */
function deserialized(e: SerializedError): Error {
  const err = e.type ? ApplicationFailure.create({ message: e.message, type: e.type, nonRetryable: e.nonRetryable ?? false }) : new Error(e.message);
  if (!e.type) err.name = e.name;
  return err;
}

let pool: SlicePool | undefined;

/** The process's scoring threads. */
export function slicePool(): SlicePool {
  pool ??= new SlicePool(os.availableParallelism());
  return pool;
}
