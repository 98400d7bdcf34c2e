import { Subject, filter, type Observable } from 'rxjs';
import { config as rxConfig } from 'rxjs';
import type { MocoEvent, MocoEventOf, MocoEventType } from './moco-event.js';

/** Thrown by `fit()` when a subscriber of `events$` threw: the run stops at the next step boundary. */
export class SubscriberError extends Error {
  constructor(override readonly cause: unknown, readonly event: MocoEventType | undefined) {
    super(`an events$ subscriber threw${event ? ` after a '${event}' event` : ''}: ${cause instanceof Error ? cause.message : String(cause)}. The run was stopped; fix or guard the subscriber (wrap its body in try/catch to keep training).`);
    this.name = 'SubscriberError';
  }
}

/**
 * The trainer's event stream. Subscribers are called synchronously, in subscription order.
 *
 * The rule for a throwing subscriber: rxjs reports such errors asynchronously through
 * `config.onUnhandledError` (by default a re-throw in a timer, which kills a Node process). While a
 * run is active, and only if the user has not set that hook, the stream installs it; an error is then
 * recorded, the trainer stops at the next step boundary (after disposing the step's tensors and saving
 * nothing half-written), emits an `error` event and rejects `fit()` with a `SubscriberError`. Other
 * subscribers keep receiving events until then.
 */
export class EventStream {
  private readonly subject = new Subject<MocoEvent>();
  private pending: SubscriberError | undefined;
  private lastType: MocoEventType | undefined;
  private installed = false;
  readonly events$: Observable<MocoEvent> = this.subject.asObservable();

  emit(event: MocoEvent): void {
    this.lastType = event.type;
    this.subject.next(event);
  }

  ofType<T extends MocoEventType>(type: T): Observable<MocoEventOf<T>> {
    return this.events$.pipe(filter((e): e is MocoEventOf<T> => e.type === type));
  }

  /** Start catching subscriber errors (see the class comment). */
  beginRun(): void {
    this.pending = undefined;
    if (rxConfig.onUnhandledError === null) {
      // rxjs calls this from a timer, so the event named is the last one emitted before it fired.
      rxConfig.onUnhandledError = (err: unknown) => {
        this.pending ??= new SubscriberError(err, this.lastType);
      };
      this.installed = true;
    }
  }

  endRun(): void {
    if (this.installed) rxConfig.onUnhandledError = null;
    this.installed = false;
  }

  /** The subscriber error recorded since `beginRun`, if any. */
  takeError(): SubscriberError | undefined {
    const e = this.pending;
    this.pending = undefined;
    return e;
  }

  complete(): void {
    this.subject.complete();
  }
}
