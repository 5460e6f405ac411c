/**
 * Generates the pipeline spec reference from the spec schema itself — the registered trainers, sinks and source
 * formats included — so it cannot drift from the code: `docs/spec.md` (every field with its type, default and
 * description) and `docs/spec.schema.json` (JSON Schema, for editors that validate YAML).
 *   npm run docs            writes both
 * A test fails when the committed files differ from what this generates.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { sinks } from '../../activities/sinks/sinks';
import { specSchema } from '../../activities/spec/schema';
import { sourceFormats } from '../../activities/sources/formats';
import { trainers } from '../../activities/train/trainers';
import type { TuneSpace } from '../../contracts/tuning';

/** The part of JSON Schema the reference reads. */
interface Node {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  properties?: Record<string, Node>;
  required?: string[];
  additionalProperties?: Node | boolean;
  items?: Node;
  anyOf?: Node[];
  oneOf?: Node[];
}

const DOCS = path.resolve(__dirname, '..', '..', 'docs');

/** The spec's JSON Schema (as written: defaults are filled in by Sluice, so nothing with one is required). */
export function specJsonSchema(): Node & { $schema?: string } {
  return z.toJSONSchema(specSchema(), { io: 'input', unrepresentable: 'any' }) as Node;
}

const PATTERNS: Record<string, string> = {
  '^\\d+(ms|s|m|h|d)$': 'duration (`30s`, `15m`, `2h`, `1d`)',
  '^\\d+(s|m|h|d)$': 'time span (`7d`, `0d`)',
  '^\\d{4}-\\d{2}-\\d{2}$': 'date (`YYYY-MM-DD`)',
};

/** A field's type in words: `integer, 1 … 1000`, `one of auto, manual`, `duration (…)`. */
function typeOf(node: Node): string {
  if (node.anyOf ?? node.oneOf) return (node.anyOf ?? node.oneOf ?? []).map(typeOf).join(' or ');
  if (node.const !== undefined) return `\`${String(node.const)}\``;
  if (node.enum) return `one of ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  if (node.pattern && PATTERNS[node.pattern]) return PATTERNS[node.pattern];
  const type = Array.isArray(node.type) ? node.type.join(' or ') : (node.type ?? 'any');
  if (type === 'array') return `list of ${node.items ? typeOf(node.items) : 'values'}`;
  if (type === 'object' && node.additionalProperties && typeof node.additionalProperties === 'object' && !node.properties) return 'mapping of names to entries';
  const low = node.minimum ?? node.exclusiveMinimum;
  // zod's `.int()` bounds integers by the largest safe one: not a limit worth printing.
  const high = (node.maximum ?? node.exclusiveMaximum) === Number.MAX_SAFE_INTEGER ? undefined : (node.maximum ?? node.exclusiveMaximum);
  const range = low !== undefined || high !== undefined ? `, ${low !== undefined ? `${node.exclusiveMinimum !== undefined ? '>' : '≥'} ${low}` : ''}${low !== undefined && high !== undefined ? ' and ' : ''}${high !== undefined ? `${node.exclusiveMaximum !== undefined ? '<' : '≤'} ${high}` : ''}` : '';
  return `${type}${range}`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const shown = (value: unknown) => (value === undefined ? '' : `\`${JSON.stringify(value)}\``);

/** Rows `| field | type | default | description |` for the fields of `node` under `prefix`, nested objects flattened. */
function rows(node: Node, prefix: string, required: boolean): string[] {
  const out: string[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const field = `${prefix}${name}`;
    const needed = required && (node.required ?? []).includes(name) && child.default === undefined;
    out.push(`| \`${field}\`${needed ? ' (required)' : ''} | ${cell(typeOf(child))} | ${cell(shown(child.default))} | ${cell(child.description ?? '')} |`);
    if (child.properties && !child.anyOf) out.push(...rows(child, `${field}.`, needed));
    const entry = child.additionalProperties;
    if (entry && typeof entry === 'object' && entry.properties) out.push(...rows(entry, `${field}.<name>.`, true));
  }
  return out;
}

const HEAD = ['| field | type | default | description |', '| --- | --- | --- | --- |'];

/** The options of a discriminated union (the trainer, the sink: by `type`; the split: by `by`) as a section each, with its summary. */
function options(title: string, node: Node, summaries: Map<string, string>, prefix: string, discriminator = 'type'): string[] {
  const out: string[] = [];
  for (const option of node.anyOf ?? node.oneOf ?? []) {
    const type = String(option.properties?.[discriminator]?.const ?? '');
    const heading = discriminator === 'type' ? `${title} \`${type}\`` : `${title} \`${discriminator}: ${type}\``;
    out.push(`### ${heading}`, '', summaries.get(type) ?? '', '', ...HEAD, ...rows({ ...option, properties: Object.fromEntries(Object.entries(option.properties ?? {}).filter(([k]) => k !== discriminator)) }, prefix, true), '');
  }
  return out;
}

/** What each kind of split is, for its section. */
const SPLITS = new Map([
  ['time', 'Training and validation windows of whole days, by `extract.time_column` (`by: time` may be left out). Features may read history (`features.lookback`) and labels the future (`label.horizon`), point in time.'],
  [
    'hash',
    'For data with no time column: each row goes to validation or training by a hash (MD5) of its key columns and the seed, the same in every run and on every machine, whatever the rows\' order. The trainers\' holdout is a hash share of the training rows; `lookback`, `horizon` and window functions are refused (a row\'s features are its own); inference scores the whole source into one partition, the day it ran.',
  ],
]);

/** The reference page. */
export function specReference(): string {
  const schema = specJsonSchema();
  const properties = schema.properties ?? {};
  const lines = [
    '# Pipeline spec reference',
    '',
    '<!-- Generated from the spec schema by `npm run docs` (scripts/docs/spec-reference.ts); a test fails when it is out of date. Do not edit. -->',
    '',
    'Every field of a pipeline spec, with its type, its default and what it does. The trainers, sinks and source',
    'formats are the registered plug-ins (see [Writing a plug-in](plugins.md)); [`spec.schema.json`](spec.schema.json)',
    'is the same schema as JSON Schema, for editors that validate YAML. A guide to writing one: [Writing a pipeline spec](pipeline-spec.md).',
    '',
  ];
  for (const [name, node] of Object.entries(properties)) {
    const required = (schema.required ?? []).includes(name) && node.default === undefined;
    lines.push(`## \`${name}\`${required ? ' (required)' : ''}`, '', node.description ?? '', '');
    if (name === 'trainer') {
      lines.push(...options('trainer', node, new Map(trainers().map((t) => [t.type, `${t.summary}. Tasks: ${t.tasks.join(', ')}; runs on the ${t.runtime} worker.${t.tuning ? ` Default \`tune.space\`: ${spaceLine(t.tuning.space)}.` : ' Cannot be searched by `tune:`.'}`])), 'trainer.'));
      continue;
    }
    if (name === 'split') {
      lines.push(...options('split', node, SPLITS, 'split.', 'by'));
      continue;
    }
    const table = rows({ properties: { [name]: node }, required: schema.required }, '', true).slice(1);
    if (table.length > 0) lines.push(...HEAD, ...table, '');
    if (name === 'sources') {
      lines.push('### Source formats', '', ...sourceFormats().map((f) => `- \`${f.name}\`: ${f.summary}.`), '');
    }
    if (name === 'inference') {
      const sinkNode = node.properties?.sink ?? {};
      lines.push(...options('sink', sinkNode, new Map(sinks().map((s) => [s.type, `${s.summary}.${s.objectStorage ? ' Also writes to `s3://` (inside SLUICE_S3_ROOTS).' : ''}`])), 'inference.sink.'));
    }
  }
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** The JSON Schema file's text. */
export function specSchemaFile(): string {
  return `${JSON.stringify({ ...specJsonSchema(), title: 'Sluice pipeline spec' }, null, 2)}\n`;
}

/** What the generator writes, by path. */
export function generatedDocs(): Record<string, string> {
  return { [path.join(DOCS, 'spec.md')]: specReference(), [path.join(DOCS, 'spec.schema.json')]: specSchemaFile() };
}

if (require.main === module) {
  for (const [file, text] of Object.entries(generatedDocs())) {
    fs.writeFileSync(file, text);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

/** `leaves` 15..1023 (log), `feature_fraction` 0.5..1: a default search space in a line. */
function spaceLine(space: TuneSpace): string {
  return Object.entries(space)
    .map(([name, range]) => {
      if (range.choice) return `\`${name}\` one of ${range.choice.join(', ')}`;
      const [low, high] = range.float ?? range.int ?? [];
      return `\`${name}\` ${low}..${high}${range.log ? ' (log)' : ''}`;
    })
    .join(', ');
}
