import fs from 'node:fs';
import path from 'node:path';

/**
 * The plug-ins in `folder`: every module there (`*.ts` under tsx and jest, `*.js` when compiled; tests and
 * declaration files aside) whose file name matches `pattern` exports one as `exportName`. Adding a plug-in is
 * adding its file: no list to edit. Sorted by file name, so the order (the docs', the errors') is stable.
 */
export function discover<T>(folder: string, exportName: string, pattern: RegExp = /^[a-z0-9_-]+$/): T[] {
  const modules = fs
    .readdirSync(folder)
    .filter((file) => /\.(ts|js)$/.test(file) && !/\.(test|d)\.(ts|js)$/.test(file))
    .map((file) => file.replace(/\.(ts|js)$/, ''))
    .filter((name, i, all) => pattern.test(name) && all.indexOf(name) === i)
    .sort();
  return modules.map((name) => {
    // A computed path: the one place Sluice loads modules it does not name (that is what makes them plug-ins).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(path.join(folder, name)) as Record<string, unknown>;
    const plugin = loaded[exportName];
    if (plugin === undefined) throw new Error(`${path.join(folder, name)}: a plug-in module must export \`${exportName}\``);
    return plugin as T;
  });
}
