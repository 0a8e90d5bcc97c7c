/**
 * The two small pieces every background poller in this code base needs: a ticker that never
 * keeps the process alive, and a run that concurrent callers share instead of starting twice.
 */

/** An unref'd interval that can be started once and stopped any number of times. */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;

  /** Calls `tick` every `ms`; a second start while running keeps the first timer. */
  start(ms: number, tick: () => void): void {
    if (this.timer) return;
    this.timer = setInterval(tick, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Wraps `run` so that calls made while one run is in flight share that run's promise. */
export function coalesce<T>(run: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => (inFlight ??= run().finally(() => (inFlight = undefined)));
}
