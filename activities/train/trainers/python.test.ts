import fs from 'node:fs';
import path from 'node:path';
import { flightsSpec, writeSpec } from '../../../test/support/specs';
import { loadSpecFile } from '../../spec/loader';
import { codeRoots } from '../../storage/code-roots';

/** `trainer: {type: python}` when the spec is loaded: its module found inside the code roots and hashed, and refused precisely otherwise. */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLE = path.join(ROOT, 'pipelines', 'trainers', 'hist_gbdt.py');

function spec(name: string, module: string): string {
  const s = flightsSpec();
  s.name = name;
  s.trainer = { type: 'python', module, function: 'train', params: { max_iter: 50 } };
  return writeSpec(name, s);
}

describe('the python trainer at load', () => {
  it('records the real path and content hash of the module the spec names', () => {
    const loaded = loadSpecFile(path.join(ROOT, 'pipelines', 'flights-sklearn.yaml'));
    expect(loaded.code).toEqual({ setting: 'trainer.module', path: fs.realpathSync(EXAMPLE), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(loaded.trainer).toEqual({ type: 'python', runtime: 'python', progressUnit: 'iteration' });
    // The same code, the same hash; the spec's own hash does not depend on it.
    expect(loadSpecFile(spec('py-load', EXAMPLE)).code?.sha256).toBe(loaded.code?.sha256);
  });

  it('refuses a module outside the code roots, one that is not there, and one that is not Python', () => {
    expect(codeRoots()).toEqual([fs.realpathSync(path.join(process.cwd(), 'pipelines'))]);
    const outside = path.join(ROOT, 'scripts', 'demo.ts').replace(/\.ts$/, '.py');
    expect(() => loadSpecFile(spec('py-outside', outside))).toThrow(
      `trainer.module: ${outside} is outside the code roots (${codeRoots().join(', ')}); trainer code is loaded only from them (whoever may write there may run code on the Python workers): move it there, or add its folder to SLUICE_CODE_ROOTS on the workers`,
    );
    const missing = path.join(ROOT, 'pipelines', 'trainers', 'no_such.py');
    expect(() => loadSpecFile(spec('py-missing', missing))).toThrow(`trainer.module: file not found: ${missing} (relative to the spec: ${missing})`);
    expect(() => loadSpecFile(spec('py-not-python', path.join(ROOT, 'pipelines', 'flights.yaml')))).toThrow(/trainer\.module: expected a Python file \(\.py\) relative to the spec, got ".*flights\.yaml"$/);
  });
});
