/**
 * Coalesces work submitted during one event-loop turn into one call (docs/architecture.md §3 step 7).
 *
 * Under load many callbacks finish verification in the same turn (their bodies arrived in the
 * same I/O poll). Sending each job as its own Redis command costs one socket write per job on
 * our side and one read per job on Redis's; the profile of the ingest bench showed those writes
 * as the largest single cost of the endpoint. A batch is flushed from `setImmediate`, i.e. right
 * after the current I/O phase, so no request waits on a timer: a lone request is sent in the same
 * turn it would have been sent anyway. Every submitter awaits the outcome of its own batch, so
 * nothing is acknowledged before it is durable.
 */
export class MicroBatcher<T> {
  private pending: Array<{ item: T; resolve: () => void; reject: (err: Error) => void }> = [];
  /** The summed weight of `pending`. */
  private pendingWeight = 0;
  private scheduled = false;

  /**
   * @param run sends one batch; must resolve only when every item in it is durable.
   * @param maxBatch flush early once this much weight is waiting (bounds one pipeline's size).
   * @param weigh an item's weight (default 1): what `maxBatch` counts.
   */
  constructor(
    private readonly run: (items: T[]) => Promise<void>,
    private readonly maxBatch = 256,
    private readonly weigh?: (item: T) => number,
  ) {}

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.pendingWeight += this.weigh ? this.weigh(item) : 1;
      if (this.pendingWeight >= this.maxBatch) {
        this.flush();
      } else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingWeight = 0;
    let sent: Promise<void>;
    try {
      sent = this.run(batch.map((entry) => entry.item));
    } catch (err) {
      sent = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    sent.then(
      () => {
        for (const entry of batch) entry.resolve();
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        for (const entry of batch) entry.reject(error);
      },
    );
  }
}
