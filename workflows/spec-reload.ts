import { patched } from '@temporalio/workflow';
import { quick } from './activity-proxies';
import { RestartWith, type Operator } from './operator';
import type { LoadedSpec, SpecChange } from '../contracts/spec';

/**
 * Runs a workflow's steps after its spec is loaded so that an operator can fix the spec: on every retry
 * of a failed step the spec is read again; when it changed, the change is recorded in `changes` and the
 * steps start over on the fixed spec — those whose inputs did not change return their results from
 * `memo` without an activity, so the run goes on from the first step whose inputs changed.
 */
export async function runWithSpecFixes<T>(operator: Operator, specPath: string, first: LoadedSpec, changes: SpecChange[], steps: (loaded: LoadedSpec) => Promise<T>): Promise<T> {
  let current = first;
  operator.beforeRetry = async (failed) => {
    // Runs recorded before retries re-read the spec retried with the spec they had.
    if (!patched('reload-spec-on-retry')) return;
    const fresh = await quick.loadSpec({ spec: specPath });
    if (fresh.hash === current.hash) return;
    changes.push({ step: failed, from: current.hash, to: fresh.hash, at: new Date().toISOString() });
    throw new RestartWith(fresh);
  };
  for (;;) {
    try {
      return await steps(current);
    } catch (err) {
      if (!(err instanceof RestartWith)) throw err;
      current = err.loaded as LoadedSpec;
    }
  }
}

/** Results of completed steps keyed by the inputs they ran on (what their result depends on, as JSON). */
export class StepMemo {
  private readonly done = new Map<string, { inputs: string; result: unknown }>();

  /** The step's result if it already ran on exactly these inputs. */
  get<T>(step: string, inputs: string | undefined): T | undefined {
    const prior = inputs === undefined ? undefined : this.done.get(step);
    return prior && prior.inputs === inputs ? (prior.result as T) : undefined;
  }

  set(step: string, inputs: string | undefined, result: unknown): void {
    if (inputs !== undefined) this.done.set(step, { inputs, result });
  }

  /** Runs `run` unless the step already ran on `inputs`. */
  async once<T>(step: string, inputs: string, run: () => Promise<T>): Promise<T> {
    const prior = this.get<T>(step, inputs);
    if (prior !== undefined) return prior;
    const result = await run();
    this.set(step, inputs, result);
    return result;
  }
}

/** The inputs a step's result depends on, as one comparable string. */
export const inputsOf = (...parts: unknown[]): string => JSON.stringify(parts);
