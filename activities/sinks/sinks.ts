import path from 'node:path';
import { specError } from '../../contracts/errors';
import type { LoadedSpec } from '../../contracts/spec';
import type { SinkRoute } from '../../contracts/plugins';
import { discover } from '../spec/discover';
import { insideDataRoots } from '../storage/data-roots';
import { insideS3Roots } from '../storage/s3-roots';
import type { SinkPlugin, SinkTarget } from './sink';

let registered: SinkPlugin[] | undefined;

/** The registered sinks: every `*-sink.ts` module in this folder. */
export function sinks(): SinkPlugin[] {
  registered ??= discover<SinkPlugin>(__dirname, 'sink', /-sink$/);
  return registered;
}

/** The spec's sink plug-in and its target, its path confined (data roots, or SLUICE_S3_ROOTS for sinks that write to object storage). */
export function sinkTarget(loaded: LoadedSpec): { sink: SinkPlugin; target: SinkTarget } {
  const params = loaded.spec.inference?.sink;
  if (!params) throw specError(`${loaded.file}: inference.sink: missing from the spec`);
  const sink = sinks().find((s) => s.type === params.type);
  if (!sink) throw specError(`${loaded.file}: inference.sink.type: no sink ${params.type} is registered (${sinks().map((s) => s.type).join(', ')})`);
  const where = typeof params.path === 'string' ? params.path : undefined;
  if (where === undefined) return { sink, target: { loaded, params } };
  if (/^s3:\/\//i.test(where)) {
    if (!sink.objectStorage) {
      const others = sinks().filter((s) => s.objectStorage).map((s) => s.type);
      throw specError(`${loaded.file}: inference.sink.path: the ${sink.type} sink writes local files and cannot write to object storage (${where}); give it a folder inside the data roots${others.length > 0 ? `, or use a sink that writes to S3 (${others.join(', ')})` : ''}`);
    }
    return { sink, target: { loaded, params, s3: insideS3Roots(where, 'inference.sink.path', loaded.file) } };
  }
  return { sink, target: { loaded, params, local: insideDataRoots(path.resolve(loaded.baseDir, where), 'inference.sink.path', loaded.file) } };
}

/** The route of a sink that publishes on the Python worker, its folder confined; undefined for the others. */
export function sinkRoute(loaded: LoadedSpec): SinkRoute | undefined {
  const type = loaded.spec.inference?.sink.type;
  // Only a Python sink's folder is resolved at load: the others' is confined when inference plans, so a training run never needs it.
  if (!type || sinks().find((s) => s.type === type)?.runtime !== 'python') return undefined;
  const { sink, target } = sinkTarget(loaded);
  if (!target.local) throw specError(`${loaded.file}: inference.sink.path: the ${sink.type} sink writes into a folder inside the data roots`);
  return { type: sink.type, runtime: 'python', local: target.local };
}
