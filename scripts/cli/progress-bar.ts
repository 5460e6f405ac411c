import { Format, SingleBar, type Options } from 'cli-progress';

/** A run's progress as the CLI shows it: the run and its status, the share done when it is known, what it is doing. */
export interface ProgressView {
  head: string;
  /** 0..1; undefined when nothing tells (no worker answers the progress query). */
  share?: number;
  detail: string;
}

const WIDTH = 24;
const STEPS = 1000;
const OPTIONS: Options = {
  format: '{head} [{bar}] {percentage}% {detail}',
  barsize: WIDTH,
  barCompleteChar: '#',
  barIncompleteChar: '.',
  autopadding: true,
  linewrap: false,
  hideCursor: false,
};

const clamp = (share: number) => Math.min(1, Math.max(0, Number.isFinite(share) ? share : 0));

/** The view as one line of text, `<head> [#####.......]  42% <detail>`: for `sluice status` and output that is not a terminal. */
export function progressText(view: ProgressView): string {
  if (view.share === undefined) return `${view.head} ${view.detail}`.trimEnd();
  const progress = clamp(view.share);
  const params = { progress, eta: 0, startTime: Date.now(), stopTime: null, total: STEPS, value: Math.round(progress * STEPS), maxWidth: Number.MAX_SAFE_INTEGER };
  // The options cli-progress's SingleBar derives itself; Format.Formatter needs them for a one-shot line.
  const derived = { ...OPTIONS, barCompleteString: '#'.repeat(WIDTH + 1), barIncompleteString: '.'.repeat(WIDTH + 1), barGlue: '', autopaddingChar: '   ' };
  return Format.Formatter(derived, params, { head: view.head, detail: view.detail }).trimEnd();
}

/** A progress bar redrawn in place on a terminal (cli-progress): start it on the first view, stop it when the run closes. */
export class TerminalProgress {
  private bar?: SingleBar;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  show(view: ProgressView): void {
    if (view.share === undefined) {
      this.stop();
      this.stream.write(`${progressText(view)}\n`);
      return;
    }
    const value = Math.round(clamp(view.share) * STEPS);
    const payload = { head: view.head, detail: view.detail };
    if (!this.bar) {
      this.bar = new SingleBar({ ...OPTIONS, stream: this.stream });
      this.bar.start(STEPS, value, payload);
    } else {
      this.bar.update(value, payload);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
