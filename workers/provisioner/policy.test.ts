import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPolicy, parsePolicy, PolicyError } from './policy';

const base = os.tmpdir();
const refusal = (value: unknown) => {
  try {
    parsePolicy(value, base, 'workers.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as Error).message;
  }
  throw new Error('the policy was accepted');
};

describe('the provisioning policy', () => {
  test("the project's workers.yaml is valid: the run queue and the Python queue, from zero workers", () => {
    const policy = loadPolicy(path.resolve(__dirname, '..', '..', 'workers.yaml'));
    expect(policy.pools.map((p) => [p.queue, p.kind, p.min, p.max])).toEqual([
      ['sluice', 'typescript', 0, 2],
      ['sluice-python', 'python', 0, 1],
    ]);
    // Each kind watches every queue its workers poll.
    expect(policy.pools[0].watch).toEqual(['sluice', 'sluice-registry']);
    expect(policy.pools[1].watch).toEqual(['sluice-python', 'sluice-python-sampler', 'sluice-python-sinks']);
    expect(policy.pools[1].env).toEqual({ SLUICE_PYTHON_TASK_QUEUE: 'sluice-python' });
  });

  test('defaults fill what a queue leaves out; paths are relative to the file', () => {
    const policy = parsePolicy({ state_dir: 'state', queues: { q: { max: 3, command: ['./w', '--x'], cwd: 'bin', env: { A: 1 } } } }, base);
    expect(policy.stateDir).toBe(path.join(base, 'state'));
    expect(policy.pools[0]).toMatchObject({ queue: 'q', kind: 'typescript', min: 0, max: 3, targetBacklog: 1, idleTimeoutSeconds: 60, command: ['./w', '--x'], cwd: path.join(base, 'bin'), env: { SLUICE_TASK_QUEUE: 'q', A: '1' } });
  });

  test('every mistake is named with where it is, at once', () => {
    const message = refusal({ queues: { sluice: { kind: 'rust', mn: 1 }, other: { min: 3, max: 2, target_backlog: 0, command: 'node w.js' } }, pol_seconds: 1 });
    expect(message).toContain('workers.yaml: 6 mistakes:');
    expect(message).toContain('pol_seconds: unknown setting (did you mean "poll_seconds"?)');
    expect(message).toContain('queues.sluice.mn: unknown setting (did you mean "min"?)');
    expect(message).toContain('queues.sluice.kind: "rust" is not one of typescript, python');
    expect(message).toContain('queues.other.min: 3 is more than max (2)');
    expect(message).toContain('queues.other.target_backlog: 0 is not a whole number of at least 1');
    expect(message).toContain('queues.other.command: expected a list of strings');
  });

  test('a policy with no queues, or a file that is not YAML, is refused', () => {
    expect(refusal({ poll_seconds: 5 })).toMatch(/queues: expected at least one task queue/);
    expect(refusal('sluice')).toMatch(/expected a mapping with `queues:`/);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'policy-')), 'workers.yaml');
    fs.writeFileSync(file, 'queues: [a, b\n');
    expect(() => loadPolicy(file)).toThrow(/workers\.yaml: not YAML/);
    expect(() => loadPolicy(`${file}.missing`)).toThrow(/cannot be read \(ENOENT\)/);
  });
});
