import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { SpecInput } from '../../contracts/spec';

export type { SpecInput };

const ROOT = path.resolve(__dirname, '..', '..');
const SPEC_DIR = path.join(ROOT, '.sluice', 'test-specs');

/** The specs in pipelines/ that stand alone (not `extends:` another), by file name without `.yaml`. */
export function pipelineNames(): string[] {
  return fs
    .readdirSync(path.join(ROOT, 'pipelines'))
    .filter((f) => f.endsWith('.yaml') && !f.startsWith('.'))
    .filter((f) => (parse(fs.readFileSync(path.join(ROOT, 'pipelines', f), 'utf8')) as { extends?: string }).extends === undefined)
    .map((f) => f.slice(0, -'.yaml'.length));
}

/**
 * A spec of pipelines/ as a plain object, with its source paths made absolute; one that `extends` another has
 * the base's sections it does not write (what the loader does).
 */
export function pipelineSpec(name: string): SpecInput {
  const file = path.join(ROOT, 'pipelines', `${name}.yaml`);
  const { extends: base, ...own } = parse(fs.readFileSync(file, 'utf8')) as SpecInput & { extends?: string };
  const spec = (base ? { ...pipelineSpec(base.replace(/\.yaml$/, '')), ...own } : own) as SpecInput;
  if (!base) for (const source of Object.values(spec.sources)) source.path = path.resolve(path.dirname(file), source.path);
  return spec;
}

/** The flights spec as a plain object, with its source paths made absolute. */
export function flightsSpec(): SpecInput {
  return pipelineSpec('flights');
}

/** The line of flights.yaml's features.sql: the two categorical features. */
const AIRPORT_COLUMNS = 's.origin AS origin_airport, s.destination AS destination_airport,';

/** Removes flights.yaml's categorical features (the airports), for a spec with numeric features only. */
export function withoutAirports(spec: SpecInput): void {
  const lines = spec.features.sql.split('\n');
  const kept = lines.filter((line) => !line.includes(AIRPORT_COLUMNS));
  if (kept.length !== lines.length - 1) throw new Error('flights.yaml no longer selects the airports as categorical features');
  spec.features.sql = kept.join('\n');
  delete spec.features.categorical;
}

/** Writes a spec object as YAML under .sluice/test-specs and returns its path (named by content, so variants never overwrite each other). */
export function writeSpec(name: string, spec: unknown): string {
  fs.mkdirSync(SPEC_DIR, { recursive: true });
  const text = typeof spec === 'string' ? spec : stringify(spec);
  const file = path.join(SPEC_DIR, `${name}-${createHash('sha256').update(text).digest('hex').slice(0, 8)}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

/**
 * The flights pipeline on a three-week slice (train 2001-01-01..21, validate 22..24) with lenient gates, named `name`
 * so each test has a registry of its own; `change` edits it further.
 */
export function smallFlightsSpec(name: string, change: (spec: SpecInput) => void = () => undefined): string {
  const spec = flightsSpec();
  spec.name = name;
  spec.split = { train: { from: '2001-01-01', to: '2001-01-21' }, validate: { from: '2001-01-22', to: '2001-01-24' } };
  // Three weeks of January learn less than five months: gates that such a model clears. Its validation days have
  // half the training window's delay rate (11.4 % against 22.4 %), so its log loss (0.404) does not beat always
  // predicting the training rate (0.395): the baseline gate is off here, and tested where a model is useless.
  spec.gates = { min_auc: 0.55, max_log_loss: 0.69, beat_baseline: false };
  // The example's data checks are data-checks.test.ts's subject; the tests of everything else run without them.
  delete spec.checks;
  change(spec);
  return writeSpec(name, spec);
}
