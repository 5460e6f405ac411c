import { Writable } from 'node:stream';
import { progressText, TerminalProgress } from './progress-bar';
import { table } from './table';

/** A stream that says it is a terminal and keeps what is written to it. */
function fakeTerminal(): { stream: NodeJS.WriteStream; written: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 200 });
  return { stream, written: () => chunks.join('') };
}

describe('progress display', () => {
  it('writes a one-shot line with the bar, the percentage and the detail', () => {
    expect(progressText({ head: 'run-1 running', share: 0.5, detail: 'step 5/8 train' })).toBe('run-1 running [############............]  50% step 5/8 train');
    expect(progressText({ head: 'run-1 completed', share: 1, detail: 'step 8/8' })).toBe('run-1 completed [########################] 100% step 8/8');
    expect(progressText({ head: 'run-1 running', share: 7, detail: '' })).toContain('[########################] 100%');
    expect(progressText({ head: 'run-1 running', detail: '(no worker answers the progress query)' })).toBe('run-1 running (no worker answers the progress query)');
  });

  it('redraws one bar in place on a terminal and ends it with a newline', () => {
    const { stream, written } = fakeTerminal();
    const terminal = new TerminalProgress(stream);
    terminal.show({ head: 'run-1 running', share: 0.25, detail: 'step 3/8 features' });
    terminal.show({ head: 'run-1 completed', share: 1, detail: 'step 8/8' });
    terminal.stop();
    const out = written();
    expect(out).toContain('run-1 running [######..................]  25% step 3/8 features');
    expect(out).toContain('run-1 completed [########################] 100% step 8/8');
    expect(out.indexOf('25%')).toBeLessThan(out.indexOf('100%'));
    // eslint-disable-next-line no-control-regex -- the terminal's cursor movements are what is checked
    expect(out).toMatch(/\x1b\[\d*G/); // redrawn in place (cursor back to column 0), not printed line after line
    expect(out.endsWith('\n')).toBe(true);
  });
});

describe('table', () => {
  it('aligns columns under their headings, numbers on the right', () => {
    const text = table([{ head: 'step' }, { head: 'rows', right: true }], [
      ['extract', '393,569'],
      ['total', '7'],
    ]);
    expect(text.split('\n')).toEqual(['step        rows', 'extract  393,569', 'total          7']);
  });
});
