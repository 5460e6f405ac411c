import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The Python worker's own tests (pytest), run inside `npm test`: the LightGBM trainer on real flights rows.
 * Their JUnit report goes to test-output/pytest.xml, whose counts `.ci/run` adds to its closing line.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.tools', 'venv', 'bin', 'python');
const REPORT = path.join(ROOT, 'test-output', 'pytest.xml');

it('pytest passes for the Python worker', () => {
  fs.mkdirSync(path.dirname(REPORT), { recursive: true });
  const run = spawnSync(PYTHON, ['-m', 'pytest', '-q', '-rfE', '-p', 'no:cacheprovider', 'tests', `--junitxml=${REPORT}`], { cwd: __dirname, encoding: 'utf8', timeout: 600_000 });
  const output = `${run.stdout}\n${run.stderr}`.trim().split('\n');
  const summary = output.slice(-20).join('\n');
  // The failing tests by name and message (pytest's short summary), so a failure says which.
  expect(output.filter((line) => /^(FAILED|ERROR) /.test(line))).toEqual([]);
  expect({ status: run.status, summary }).toEqual({ status: 0, summary: expect.stringMatching(/\d+ passed/) });
  expect(summary).not.toMatch(/skipped/); // the S3 test runs here, against the suite's S3 server
});
