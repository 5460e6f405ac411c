import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { specError } from './errors';
import { pipelineSpecSchema, type PipelineSpec } from './spec-schema';

/** A validated spec, as a workflow records it in its history. */
export interface LoadedSpec {
  /** The spec file as the caller named it. */
  file: string;
  /** Folder that relative source paths are resolved from (the spec file's folder, as named). */
  baseDir: string;
  /** SHA-256 of the validated spec (comments and key order do not change it). */
  hash: string;
  spec: PipelineSpec;
}

/** A run's spec changed while it ran: an operator fixed it and retried the step that had failed. */
export interface SpecChange {
  /** The step whose retry read the fixed spec. */
  step: string;
  from: string;
  to: string;
  at: string;
}

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

/** Validates spec text; `file` is used in messages and to resolve relative source paths. */
export function parseSpec(text: string, file: string): LoadedSpec {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const where = first.linePos ? `:${first.linePos[0].line}:${first.linePos[0].col}` : '';
    throw specError(`${file}${where}: invalid YAML: ${first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw specError(`${file}: a pipeline spec must be a YAML mapping (name:, sources:, extract:, …)`);
  }
  const result = pipelineSpecSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
      return `${file}${lineOf(doc, lineCounter, at)}: ${describeIssue(issue)}`;
    });
    throw specError(lines.join('\n'));
  }
  const spec = result.data;
  return { file, baseDir: path.dirname(file), hash: hashOf(spec), spec };
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

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = fieldName(issue.path);
  // The offending value, when it is one value (never a whole section: it may hold a secret the check is about).
  const value = 'input' in issue ? issue.input : undefined;
  const got = value !== undefined && (value === null || typeof value !== 'object') ? `, got ${JSON.stringify(value)}` : '';
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `${field}: is required (expected ${issue.expected})` : `${field}: expected ${issue.expected}${got}`;
    case 'invalid_value':
      return `${field}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    case 'unrecognized_keys':
      return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `\`${k}\``).join(', ')}`;
    case 'invalid_union': {
      const { discriminator, options } = issue as { discriminator?: string; options?: unknown[] };
      if (discriminator && options && issue.input && typeof issue.input === 'object') {
        const value = (issue.input as Record<string, unknown>)[discriminator];
        return `${field}: expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(value)}`;
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
