import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { didYouMean } from '../../contracts/closest-names';
import { insideDataRoots } from '../storage/data-roots';
import { fieldsAt } from './fields';
import { specError } from '../../contracts/errors';
import type { LoadedSpec } from '../../contracts/spec';
import { checkTrainerTakes, resolveTuning, routeOf, trainerOf } from '../train/trainers';
import { trainerCode } from '../storage/code-roots';
import { sinkRoute } from '../sinks/sinks';
import { specSchema } from './schema';

/** Reads, parses and validates a pipeline spec; every problem is a non-retryable `SluiceSpecError` naming file and field. */
export function loadSpecFile(file: string): LoadedSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw specError(`${file}: cannot read the pipeline spec (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseSpec(text, file);
}

/** Validates spec text; `file` is used in messages and to resolve relative source paths (and `extends`). */
export function parseSpec(text: string, file: string): LoadedSpec {
  const { raw, origins } = readLayers(text, file, []);
  const result = specSchema().safeParse(raw, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
      const origin = origins.get(String(at[0])) ?? origins.get('')!;
      return `${origin.file}${lineOf(origin.doc, origin.counter, at)}: ${describeIssue(issue, raw)}`;
    });
    throw specError(lines.join('\n'));
  }
  const spec = result.data;
  checkTrainerTakes(spec, file);
  resolveTuning(spec, file);
  const setting = trainerOf(spec.trainer.type).codeSetting;
  const module = setting ? spec.trainer[setting] : undefined;
  const code = setting && typeof module === 'string' ? trainerCode(module, `trainer.${setting}`, file) : undefined;
  const loaded: LoadedSpec = { file, baseDir: path.dirname(file), hash: hashOf(spec), spec, trainer: routeOf(spec), ...(code ? { code } : {}) };
  const sink = sinkRoute(loaded);
  return sink ? { ...loaded, sink } : loaded;
}

/** Where a top-level section was written (the spec itself, or a spec it extends), for error lines. */
interface Origin {
  file: string;
  doc: Document;
  counter: LineCounter;
}

/** How many specs deep `extends` may go. */
const MAX_EXTENDS = 4;

/**
 * The spec's YAML as one mapping. `extends: flights.yaml` names a spec in the same folder (so relative paths
 * mean the same in both) whose top-level sections this one starts from; each section written here replaces
 * the base's whole (a `trainer:` here is the whole trainer). `origins` says which file each section came from.
 */
function readLayers(text: string, file: string, chain: string[]): { raw: Record<string, unknown>; origins: Map<string, Origin> } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const where = first.linePos ? `:${first.linePos[0].line}:${first.linePos[0].col}` : '';
    throw specError(`${file}${where}: invalid YAML: ${first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw specError(`${file}: a pipeline spec must be a YAML mapping (name:, sources:, extract:, …)`);
  }
  const { extends: base, ...own } = raw as Record<string, unknown>;
  const here: Origin = { file, doc, counter };
  const origins = new Map<string, Origin>(Object.keys(own).map((key) => [key, here]));
  origins.set('', here);
  if (base === undefined) return { raw: own, origins };
  const at = `${file}${lineOf(doc, counter, ['extends'])}: extends`;
  if (typeof base !== 'string' || !/^[\w.-]+\.ya?ml$/.test(base) || base.startsWith('.')) {
    throw specError(`${at}: expected the file name of a spec in the same folder, such as flights.yaml, got ${JSON.stringify(base)}`);
  }
  const baseFile = path.join(path.dirname(file), base);
  if ([file, ...chain].map((f) => path.resolve(f)).includes(path.resolve(baseFile))) {
    throw specError(`${at}: ${[...chain, file, baseFile].map((f) => path.basename(f)).join(' → ')} extends itself`);
  }
  if (chain.length + 1 >= MAX_EXTENDS) throw specError(`${at}: specs may extend at most ${MAX_EXTENDS - 1} levels deep`);
  // A link in the spec's folder must not lead out of the data roots.
  insideDataRoots(baseFile, 'extends', file);
  let baseText: string;
  try {
    baseText = fs.readFileSync(baseFile, 'utf8');
  } catch (err) {
    throw specError(`${at}: cannot read ${base} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const inherited = readLayers(baseText, baseFile, [...chain, file]);
  for (const key of ['', ...Object.keys(own)]) inherited.origins.set(key, here);
  return { raw: { ...inherited.raw, ...own }, origins: inherited.origins };
}

/** A stable SHA-256 of a JSON-able value: object keys are sorted, so key order does not matter. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function lineOf(doc: Document, counter: LineCounter, issuePath: PropertyKey[]): string {
  for (let n = issuePath.length; n >= 0; n--) {
    const node = doc.getIn(issuePath.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return `:${counter.linePos(node.range[0]).line}`;
  }
  return '';
}

function fieldName(issuePath: PropertyKey[]): string {
  return issuePath.length === 0 ? '(top level)' : issuePath.map(String).join('.');
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const field = fieldName(issue.path);
  // The offending value, when it is one value (never a whole section: it may hold a secret the check is about).
  const sensitive = (issue as { params?: { sensitive?: boolean } }).params?.sensitive === true;
  const value = 'input' in issue && !sensitive ? issue.input : undefined;
  const got = value !== undefined && (value === null || typeof value !== 'object') ? `, got ${JSON.stringify(value)}` : '';
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `${field}: is required (expected ${issue.expected})` : `${field}: expected ${issue.expected}${got}`;
    case 'invalid_value':
      return `${field}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    case 'unrecognized_keys': {
      // A typo gets the field it most likely meant: `trainr` → did you mean `trainer`?
      const known = fieldsAt(specSchema(), issue.path, raw);
      const hints = issue.keys.map((k) => didYouMean(k, known)).filter((h): h is string => h !== undefined);
      const hint = hints.length > 0 ? `; did you mean ${hints.map((h) => `\`${h}\``).join(', ')}?` : known.length > 0 ? ` (allowed here: ${known.join(', ')})` : '';
      return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `\`${k}\``).join(', ')}${hint}`;
    }
    case 'invalid_union': {
      const { discriminator, options } = issue as { discriminator?: string; options?: unknown[] };
      if (discriminator && options && issue.input && typeof issue.input === 'object') {
        const value = (issue.input as Record<string, unknown>)[discriminator];
        // An optional discriminator (`split.by`) lists `undefined` among its options: not a value to write.
        return `${field}: expected one of ${options.filter((o) => o !== undefined && o !== null).map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(value)}`;
      }
      return `${field}: ${issue.message}${got}`;
    }
    case 'invalid_format':
    case 'custom':
      return `${field}: ${issue.message}${got}`;
    case 'too_small':
    case 'too_big':
      return `${field}: ${issue.message}${got}`;
    default:
      return `${field}: ${issue.message}`;
  }
}
