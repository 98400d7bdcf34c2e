import type { WarningSink } from '../strategies/run-services.js';

/**
 * The run's warning sink: strategies get it by injection (`@inject(WarningSink)`) and each message
 * reaches `events$` as a `warning` event. `redirected` sends the warnings of one piece of work elsewhere,
 * e.g. nowhere while a checkpoint restores a state whose warnings were already reported when it was made.
 *
 * ```ts
 * const warnings = new RunWarnings((message) => stream.emit({ type: 'warning', message }));
 * warnings.redirected(() => undefined, () => dictionary.setup(info));
 * ```
 */
export class RunWarnings implements WarningSink {
  private target: (message: string) => void;

  constructor(target: (message: string) => void) {
    this.target = target;
  }

  warn(message: string): void {
    this.target(message);
  }

  /** Run `work` with warnings sent to `to`; the previous target is restored after, also on a throw. */
  redirected<T>(to: (message: string) => void, work: () => T): T {
    const previous = this.target;
    this.target = to;
    try {
      return work();
    } finally {
      this.target = previous;
    }
  }
}
