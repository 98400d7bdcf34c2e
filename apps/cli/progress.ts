// The terminal view of a run: a cli-progress bar (epoch, step, loss, images/s, ETA) on a TTY, plain lines
// otherwise (one per epoch, evaluation and checkpoint), so logs and CI output stay readable.
import cliProgress from 'cli-progress';
import type { MocoEvent } from '../../src/events/moco-event.js';
import type { MocoPlugin } from '../../src/registry/moco-plugin.js';

/** What the CLI is given by its host: where to write, and the plugins whose strategies configs may name. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Draw a progress bar on stderr (a terminal). */
  tty: boolean;
  /** The strategies available to `--config` (the executable passes `builtinPlugins`). */
  plugins: readonly MocoPlugin[];
  /**
   * Module specifiers exporting `plugins` (as `plugins`, `builtinPlugins` or default), for `--workers`: the
   * worker threads import them (the executable passes its plugins/index module).
   */
  pluginModules?: readonly string[];
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

export class ProgressView {
  private bar: cliProgress.SingleBar | undefined;
  private epochs = 0;
  private lastLine = 0;
  private end: { step: number; stepsPerEpoch: number } | undefined;

  constructor(private readonly io: CliIo) {}

  /**
   * The run ends after `step` rather than at the fit's last step (a budgeted run's planned or re-planned end,
   * short of its headroom): count epochs and steps to there, so "epoch 3/10" means what it says.
   */
  endAt(step: number | undefined, stepsPerEpoch: number): void {
    this.end = step === undefined ? undefined : { step, stepsPerEpoch };
    if (this.end) {
      this.epochs = this.epochsToEnd(this.epochs);
      this.bar?.setTotal(this.end.step);
    }
  }

  /** Epochs to the run's end when it has one, else `fitEpochs`. */
  private epochsToEnd(fitEpochs: number): number {
    return this.end ? Math.ceil(this.end.step / this.end.stepsPerEpoch) : fitEpochs;
  }

  handle(e: MocoEvent): void {
    switch (e.type) {
      case 'run-started': {
        this.epochs = this.epochsToEnd(e.epochs);
        const total = this.end?.step ?? e.totalSteps;
        if (this.io.tty && total) {
          this.bar = new cliProgress.SingleBar(
            {
              format: 'epoch {epoch}/{epochs} |{bar}| step {value}/{total} | loss {loss} | {ips} img/s | ETA {eta_formatted}',
              stream: process.stderr,
              hideCursor: true,
              etaBuffer: 20,
              fps: 5,
            },
            cliProgress.Presets.shades_classic,
          );
          this.bar.start(total, e.startStep, { epoch: e.startEpoch + 1, epochs: this.epochs, loss: '-', ips: '-' });
        }
        break;
      }
      case 'step': {
        const payload = { epoch: e.epoch + 1, epochs: this.epochs, loss: e.loss.toFixed(3), ips: e.imagesPerSecond.toFixed(1) };
        if (this.bar) this.bar.update(e.step + 1, payload);
        else if (performance.now() - this.lastLine > 30_000) {
          // Without a bar, a heartbeat every 30 s.
          this.lastLine = performance.now();
          this.io.err(`step ${e.step + 1} (epoch ${e.epoch + 1}/${this.epochs}): loss ${payload.loss}, ${payload.ips} img/s`);
        }
        break;
      }
      case 'epoch-ended':
        this.line(`epoch ${e.epoch + 1}/${this.epochs}: ${e.steps} steps, mean loss ${e.meanLoss.toFixed(3)}, pretext accuracy ${pct(e.meanPretextAccuracy)}, ${e.imagesPerSecond.toFixed(1)} img/s, ${e.seconds.toFixed(1)} s`);
        break;
      case 'evaluation': {
        const base = e.baselines ? ` (random init ${pct(e.baselines.randomInit ?? NaN)}, raw pixels ${pct(e.baselines.rawPixels ?? NaN)})` : '';
        this.line(`epoch ${e.epoch + 1}: ${e.metric} accuracy ${pct(e.accuracy)}${base}`);
        break;
      }
      case 'checkpoint-saved':
        this.line(`checkpoint: step ${e.step} saved to ${e.path}`);
        break;
      case 'warning':
        this.line(`warning: ${e.message}`);
        break;
      case 'run-ended':
        this.stop();
        break;
      case 'error':
        this.stop();
        break;
    }
  }

  /** A line above the bar. */
  line(text: string): void {
    if (this.bar) {
      // cli-progress has no "log above": clear the bar's line, print, and let the next update redraw it.
      process.stderr.write('\r\x1b[2K');
      this.io.err(text);
      this.bar.render();
    } else {
      this.io.err(text);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
