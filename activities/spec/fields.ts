import type { z } from 'zod';

/** The parts of a zod schema's definition this module walks (zod 4 keeps them in `_zod.def`). */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** The schema without its optional / default / pipe wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  for (let current = schema; ; ) {
    const def = defOf(current);
    const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (!inner) return current;
    current = inner;
  }
}

/**
 * The field names the spec schema allows at `at` (a path into the spec as written, `input` being the whole
 * written spec): the keys of the object found there, for "did you mean" on an unknown field. A discriminated
 * union (the trainer, the sink) is resolved by the discriminator the input gives.
 */
export function fieldsAt(schema: z.ZodType, at: readonly PropertyKey[], input: unknown): string[] {
  let current: z.ZodType | undefined = schema;
  let value: unknown = input;
  for (let i = 0; ; i++) {
    let def: SchemaDef | undefined = current ? defOf(unwrap(current)) : undefined;
    if (def?.type === 'union') {
      const option = pickOption(def, value);
      def = option ? defOf(unwrap(option)) : undefined;
    }
    if (!def) return [];
    if (i === at.length) return def.shape ? Object.keys(def.shape) : [];
    const key = at[i];
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
    current = def.shape?.[String(key)] ?? def.valueType ?? def.element;
  }
}

/** The union option an input selects: by the discriminator's literal, else the only object option. */
function pickOption(def: SchemaDef, value: unknown): z.ZodType | undefined {
  const options = def.options ?? [];
  if (def.discriminator && value !== null && typeof value === 'object') {
    const wanted = (value as Record<string, unknown>)[def.discriminator];
    const match = options.find((o) => defOf(unwrap(defOf(unwrap(o)).shape?.[def.discriminator as string] as z.ZodType)).values?.includes(wanted));
    if (match) return match;
  }
  return options.length === 1 ? options[0] : undefined;
}
