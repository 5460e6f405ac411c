import type { LoadedSpec } from '../../contracts/spec';
import type { PublishedFilter } from './sink';
import { sinkTarget } from './sinks';

export type { PublishedFilter };

/** Days (`YYYY-MM-DD`, sorted) present in the spec's sink, optionally only those a model version scored. */
export async function publishedDays(loaded: LoadedSpec, filter: PublishedFilter): Promise<string[]> {
  const { sink, target } = sinkTarget(loaded);
  const inRange = (day: string) => (!filter.from || day >= filter.from) && (!filter.to || day <= filter.to);
  return (await sink.publishedDays(target, filter)).filter(inRange).sort();
}
