import { buildSpecSchema, type SpecSchema } from '../../contracts/spec';
import { sinks } from '../sinks/sinks';
import { sourceFormats } from '../sources/formats';
import { trainers } from '../train/trainers';

let schema: SpecSchema | undefined;

/** The spec schema of the registered plug-ins: the trainers, the sinks and the source formats found in their folders. */
export function specSchema(): SpecSchema {
  schema ??= buildSpecSchema({ trainers: trainers().map((t) => t.params), sinks: sinks().map((s) => s.params), formats: sourceFormats().map((f) => f.name) });
  return schema;
}
