import path from 'node:path';
import { flightsSpec, writeSpec, type SpecInput } from '../../test/support/specs';
import { loadSpecFile } from '../spec/loader';
import { realPath } from '../storage/data-roots';

/** The iceberg sink when a spec is loaded: its publish routed to the Python worker with its folder confined; a catalog password and object storage refused. */
const ROOT = path.resolve(__dirname, '..', '..');

function spec(name: string, sink: Record<string, unknown>): string {
  const s = flightsSpec();
  s.name = name;
  s.inference = { sink: { type: 'iceberg', table: 'flight_scores', ...sink } } as SpecInput['inference'];
  return writeSpec(name, s);
}

describe('the iceberg sink at load', () => {
  it('routes the publish step to the Python worker, with the table folder as a real path inside the data roots', () => {
    const folder = path.join(ROOT, '.sluice', 'sinks', 'flight-scores');
    const loaded = loadSpecFile(spec('iceberg-route', { path: folder }));
    expect(loaded.sink).toEqual({ type: 'iceberg', runtime: 'python', local: realPath(folder) });
    expect(loaded.spec.inference?.sink).toEqual({ type: 'iceberg', path: folder, namespace: 'sluice', table: 'flight_scores' });
    // A TypeScript sink has no route: the TypeScript worker publishes.
    expect(loadSpecFile(spec('parquet-route', { type: 'parquet', path: folder, table: undefined })).sink).toBeUndefined();
  });

  it('refuses a catalog URL with a password, a folder outside the data roots, and object storage', () => {
    const folder = path.join(ROOT, '.sluice', 'sinks', 'flight-scores');
    expect(() => loadSpecFile(spec('iceberg-password', { path: folder, catalog: 'postgresql+psycopg2://sluice:secret@db/iceberg' }))).toThrow(
      "inference.sink.catalog: must not contain a password: a spec is recorded in every run's history. Give the Python workers the catalog URL in SLUICE_ICEBERG_CATALOG, or the password in PGPASSWORD",
    );
    expect(() => loadSpecFile(spec('iceberg-outside', { path: '/etc/scores' }))).toThrow(/inference\.sink\.path: \/etc\/scores is outside the data roots/);
    expect(() => loadSpecFile(spec('iceberg-s3', { path: 's3://bucket/scores' }))).toThrow(/inference\.sink\.path: the iceberg sink writes local files and cannot write to object storage \(s3:\/\/bucket\/scores\)/);
  });
});
