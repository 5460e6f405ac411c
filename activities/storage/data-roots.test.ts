import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { insideDataRoots } from './data-roots';

describe('data roots', () => {
  const saved = process.env.SLUICE_DATA_ROOTS;
  afterEach(() => {
    process.env.SLUICE_DATA_ROOTS = saved;
  });

  it('allows files under a root, the root itself and everything under the file system root', () => {
    process.env.SLUICE_DATA_ROOTS = ['/srv/data', '/srv/sinks'].join(path.delimiter);
    expect(insideDataRoots('/srv/data/a/b.parquet', 'sources.x.path', 'p.yaml')).toBe('/srv/data/a/b.parquet');
    expect(insideDataRoots('/srv/sinks', 'inference.sink.path', 'p.yaml')).toBe('/srv/sinks');
    process.env.SLUICE_DATA_ROOTS = '/';
    expect(insideDataRoots('/anything/at/all.csv', 'sources.x.path', 'p.yaml')).toBe('/anything/at/all.csv');
  });

  it('refuses a sibling that only shares a prefix, and paths that climb out', () => {
    process.env.SLUICE_DATA_ROOTS = '/srv/data';
    expect(() => insideDataRoots('/srv/data-other/x.parquet', 'sources.x.path', 'p.yaml')).toThrow(
      'p.yaml: sources.x.path: /srv/data-other/x.parquet is outside the data roots (/srv/data); set SLUICE_DATA_ROOTS on the workers to allow it',
    );
    expect(() => insideDataRoots('/srv/data/../etc/passwd', 'sources.x.path', 'p.yaml')).toThrow('/srv/etc/passwd is outside the data roots');
  });

  it('resolves symlinks: a link inside a root that points outside is outside, also below a path not written yet', () => {
    const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-roots-')));
    fs.mkdirSync(path.join(base, 'root'));
    fs.mkdirSync(path.join(base, 'elsewhere'));
    fs.symlinkSync(path.join(base, 'elsewhere'), path.join(base, 'root', 'link'));
    process.env.SLUICE_DATA_ROOTS = path.join(base, 'root');
    expect(() => insideDataRoots(path.join(base, 'root', 'link', 'new', 'scores'), 'inference.sink.path', 'p.yaml')).toThrow(
      `p.yaml: inference.sink.path: ${path.join(base, 'root', 'link', 'new', 'scores')} is outside the data roots`,
    );
    expect(insideDataRoots(path.join(base, 'root', 'new', 'scores'), 'inference.sink.path', 'p.yaml')).toBe(path.join(base, 'root', 'new', 'scores'));
    // A root given through a link counts as its target.
    process.env.SLUICE_DATA_ROOTS = path.join(base, 'root', 'link');
    expect(insideDataRoots(path.join(base, 'elsewhere', 'x.csv'), 'sources.x.path', 'p.yaml')).toBe(path.join(base, 'elsewhere', 'x.csv'));
  });
});
