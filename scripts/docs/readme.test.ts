import fs from 'node:fs';
import path from 'node:path';
import { parseSpec } from '../../activities/spec/loader';

/** The README's short spec is a spec the workers accept, and every page it links to exists. */
const ROOT = path.resolve(__dirname, '..', '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('the README', () => {
  it('shows a spec that loads', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(yaml).toBeDefined();
    const loaded = parseSpec(yaml as string, path.join(ROOT, 'pipelines', 'readme.yaml'));
    expect(loaded.spec.name).toBe('flights');
    expect(loaded.trainer?.runtime).toBe('typescript');
  });

  it('links only to files that exist, and stays short', () => {
    const links = [...readme.matchAll(/\]\(((?!https?:)[^)#]+)[^)]*\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(10);
    expect(links.filter((l) => !fs.existsSync(path.join(ROOT, l)))).toEqual([]);
    expect(readme.split('\n').length).toBeLessThan(220);
  });

  it('every docs page links only to files that exist', () => {
    const docs = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    const broken = docs.flatMap((page) =>
      [...fs.readFileSync(path.join(ROOT, 'docs', page), 'utf8').matchAll(/\]\(((?!https?:)[^)#]+)[^)]*\)/g)]
        .map((m) => m[1])
        .filter((l) => !fs.existsSync(path.join(ROOT, 'docs', l)))
        .map((l) => `${page}: ${l}`),
    );
    expect(broken).toEqual([]);
  });
});
