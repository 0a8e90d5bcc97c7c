import { Counter, Gauge, type Registry } from 'prom-client';
import type { Alerter } from '../../infra/alerts.js';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import { domainEventJob } from '../../queues/jobs/domain-events.jobs.js';
import { QueueName } from '../../queues/queue-names.js';
import type { Collection } from 'mongoose';
import type { DomainEvent } from './domain-event.js';
import { eventOfRecord, markQueued, type LedgerRow } from './domain-event-ledger.js';
import { DomainEventRecordModel } from './domain-event-record.model.js';
import { OutboxEventModel } from './outbox-event.model.js';

/** An outbox record as the driver sees it (string ids). */
interface OutboxRow {
  _id: string;
  type: string;
  corpId: string;
  event: unknown;
  status: 'pending' | 'inline' | 'relayed';
  createdAt: Date;
  leaseUntil?: Date;
  relayedAt?: Date;
}

/**
 * The outbox collection through the driver, for the hot writes and reads of every change's relay
 * (docs/scale.md §4): ids, strings and the already parsed event leave mongoose nothing to cast,
 * and the model has no hooks.
 */
export const outboxCollection = (): Collection<OutboxRow> =>
  OutboxEventModel.collection as unknown as Collection<OutboxRow>;

export interface RelayBatchOptions {
  /** Only these event ids (the post-commit relay of one change); default: the oldest pending ones. */
  ids?: readonly string[];
  /**
   * Records known to be pending, with their event (the post-commit relay of the records its change
   * inserted): relayed without reading them back. With `records` and no `ids`, nothing is read.
   */
  records?: ReadonlyArray<{ _id: string; event: unknown }>;
  batchSize?: number;
  now?: Date;
  /** Delay of the jobs added (an inline event whose consumers failed waits the queue's first backoff). */
  delayMs?: number;
}

/**
 * What the relay loop moves: pending records, and inline ones whose lease expired (written by a
 * job that ran its events itself before those jobs leased `domain_events` records instead; see
 * `relayExpiredLeases`, docs/reliability.md, "Domain events: the outbox").
 */
const relayable = (now: Date) => ({
  $or: [{ status: 'pending' as const }, { status: 'inline' as const, leaseUntil: { $lte: now } }],
});

/**
 * Moves pending outbox records (and inline ones whose lease expired) to the `domain-events` queue
 * (job id = event id) and then marks them relayed. Safe to run in several processes at once and to
 * repeat after a crash between the add and the mark: BullMQ ignores an add whose job id exists,
 * and the consumer skips an event id it already processed (docs/reliability.md, "Domain events:
 * the outbox"). Returns how many records it marked relayed; rejects when Redis does not take them
 * (they stay as they were).
 */
export async function relayOutbox(queues: Queues, opts: RelayBatchOptions = {}): Promise<number> {
  const now = opts.now ?? new Date();
  const records: Array<{ _id: string; event: unknown }> = [...(opts.records ?? [])];
  if (!opts.records || (opts.ids && opts.ids.length > 0)) {
    const filter = opts.ids ? { _id: { $in: [...opts.ids] }, status: 'pending' as const } : relayable(now);
    const read = await outboxCollection()
      .find(filter, { projection: { _id: 1, event: 1 }, sort: { createdAt: 1 }, limit: opts.batchSize ?? 200 })
      .toArray();
    records.push(...read);
  }
  if (records.length === 0) return 0;
  await queueDomainEvents(queues, records, opts.delayMs);
  const marked = await outboxCollection().updateMany(
    { _id: { $in: records.map((r) => r._id) }, status: { $in: ['pending', 'inline'] } },
    { $set: { status: 'relayed', relayedAt: now } },
  );
  return marked.modifiedCount;
}

/** Adds events to the `domain-events` queue, job id = event id (an existing job id is a no-op). */
export async function queueDomainEvents(
  queues: Queues,
  records: ReadonlyArray<{ _id: string; event: unknown }>,
  delayMs?: number,
): Promise<void> {
  const delay = delayMs ? { delay: delayMs } : {};
  await queues
    .get(QueueName.domainEvents)
    .addBulk(records.map((r) => domainEventJob.bulkEntry(r.event as never, { jobId: r._id, ...delay })));
}

/** The `domain_events` ledger through the driver (the relay's scan of leased records). */
const ledgerCollection = (): Collection<LedgerRow & { leaseUntil?: Date; status: string }> =>
  DomainEventRecordModel.collection as unknown as Collection<LedgerRow & { leaseUntil?: Date; status: string }>;

/**
 * Queues the events of a job that runs its events itself whose ledger records exist already (a
 * replayed source) and are not processed yet; a processed one is left alone (docs/reliability.md,
 * "Domain events: the outbox"). One read; job id = event id, so a job still retained is not added twice.
 */
export async function queueUnprocessed(
  queues: Queues,
  events: ReadonlyArray<{ id: string; event: DomainEvent }>,
): Promise<number> {
  if (events.length === 0) return 0;
  const open = await ledgerCollection()
    .find(
      {
        corpId: { $in: [...new Set(events.map((e) => e.event.corpId))] },
        eventId: { $in: events.map((e) => e.id) },
        status: { $ne: 'processed' },
      },
      { projection: { _id: 0, eventId: 1 } },
    )
    .toArray();
  const ids = new Set(open.map((r) => r.eventId));
  const records = events.filter((e) => ids.has(e.id)).map((e) => ({ _id: e.id, event: e.event }));
  if (records.length > 0) await queueDomainEvents(queues, records);
  return records.length;
}

/**
 * Queues the events whose ledger records are still leased past their lease: the job that wrote
 * them in its transaction to run them itself died first, or could not queue one whose consumers
 * failed (docs/reliability.md, "Domain events: the outbox"). The event is rebuilt from its record;
 * once added to the queue (job id = event id) the record is `queued` with its lease cleared, so the
 * next pass leaves it alone, and the queue job claims it as any other. Returns how many it queued.
 */
export async function relayExpiredLeases(
  queues: Queues,
  opts: { now?: Date; batchSize?: number } = {},
): Promise<number> {
  const now = opts.now ?? new Date();
  const rows = await ledgerCollection()
    .find({ leaseUntil: { $lte: now } }, { sort: { leaseUntil: 1 }, limit: opts.batchSize ?? 200 })
    .toArray();
  if (rows.length === 0) return 0;
  await queueDomainEvents(
    queues,
    rows.map((r) => ({ _id: r.eventId, event: eventOfRecord(r) })),
  );
  await markQueued(
    rows.map((r) => ({ eventId: r.eventId, corpId: r.corpId })),
    now,
  );
  return rows.length;
}

export interface OutboxLag {
  /**
   * Records the relay has to move: pending outbox ones, inline ones whose lease expired, and leased
   * `domain_events` ledger records whose lease expired.
   */
  pending: number;
  /**
   * How long the oldest of them has waited, in seconds (a pending record since its creation, a
   * leased one since its lease expired), 0 when none waits.
   */
  oldestAgeS: number;
}

/** How far behind the relay is: records waiting for it and the wait of the oldest. */
export async function measureOutboxLag(nowMs: number = Date.now()): Promise<OutboxLag> {
  const now = new Date(nowMs);
  // Counted first: when nothing waits (a relay pass each second, mostly) those are the only commands.
  const [outbox, leased] = await Promise.all([
    OutboxEventModel.countDocuments(relayable(now)),
    ledgerCollection().countDocuments({ leaseUntil: { $lte: now } }),
  ]);
  const pending = outbox + leased;
  if (pending === 0) return { pending, oldestAgeS: 0 };
  const [oldest, expired, expiredLease] = await Promise.all([
    outbox > 0
      ? OutboxEventModel.findOne({ status: 'pending' }, { createdAt: 1 }).sort({ createdAt: 1 }).lean()
      : undefined,
    outbox > 0
      ? OutboxEventModel.findOne({ status: 'inline', leaseUntil: { $lte: now } }, { leaseUntil: 1 })
          .sort({ leaseUntil: 1 })
          .lean()
      : undefined,
    leased > 0
      ? ledgerCollection().findOne(
          { leaseUntil: { $lte: now } },
          { projection: { leaseUntil: 1 }, sort: { leaseUntil: 1 } },
        )
      : undefined,
  ]);
  const since = Math.min(
    oldest?.createdAt.getTime() ?? nowMs,
    expired?.leaseUntil?.getTime() ?? nowMs,
    expiredLease?.leaseUntil?.getTime() ?? nowMs,
  );
  return { pending, oldestAgeS: Math.max(0, (nowMs - since) / 1000) };
}

export interface OutboxRelayOptions {
  queues: Queues;
  logger: Logger;
  /** Registers `scrm_outbox_*` metrics here (the process's registry). */
  registry?: Registry;
  alerts?: Alerter;
  /** Pause between passes when nothing was pending or a pass failed (ms). Default 1000. */
  intervalMs?: number;
  batchSize?: number;
  /** Lag above which the relay raises an `outbox_lag` alert and the process is not ready (s). Default 60. */
  lagAlertS?: number;
  nowMs?: () => number;
}

export interface OutboxRelayStatus {
  /** The last measurement; undefined before the first pass. */
  lag?: OutboxLag;
  lastError?: string;
  lagAlertS: number;
}

/**
 * The relay loop of the worker process: relays pending outbox records in batches, and the events of
 * ledger records whose lease expired (`relayExpiredLeases`), measures the
 * lag after each pass (metric `scrm_outbox_relay_lag_seconds`, alert and readiness above
 * `lagAlertS`), and keeps retrying while Redis or MongoDB is away.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastErrorLog = 0;
  private state: OutboxRelayStatus;
  private readonly relayed?: Counter;
  private readonly nowMs: () => number;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.nowMs = opts.nowMs ?? Date.now;
    this.state = { lagAlertS: opts.lagAlertS ?? 60 };
    if (opts.registry) {
      const lastLag = () => this.state.lag;
      new Gauge({
        name: 'scrm_outbox_relay_lag_seconds',
        help: 'How long the oldest domain event in the outbox waiting for the relay (pending, or inline past its lease) has waited (0 when none)',
        registers: [opts.registry],
        collect() {
          this.set(lastLag()?.oldestAgeS ?? 0);
        },
      });
      new Gauge({
        name: 'scrm_outbox_pending',
        help: 'Domain events in the outbox waiting for the relay to the domain-events queue (pending, or inline past its lease)',
        registers: [opts.registry],
        collect() {
          this.set(lastLag()?.pending ?? 0);
        },
      });
      this.relayed = new Counter({
        name: 'scrm_outbox_relayed_total',
        help: 'Domain events the outbox relay moved to the domain-events queue',
        registers: [opts.registry],
      });
    }
  }

  status(): OutboxRelayStatus {
    return { ...this.state };
  }

  /** One pass: relays until nothing is pending (or a batch fails), then measures the lag. */
  async runOnce(): Promise<OutboxRelayStatus> {
    let failure: Error | undefined;
    try {
      for (;;) {
        const moved = await relayOutbox(this.opts.queues, {
          batchSize: this.opts.batchSize,
          now: new Date(this.nowMs()),
        });
        this.relayed?.inc(moved);
        if (moved < (this.opts.batchSize ?? 200) || this.stopped) break;
      }
      // The ledger records leased to jobs that died before running their events.
      for (;;) {
        const moved = await relayExpiredLeases(this.opts.queues, {
          batchSize: this.opts.batchSize,
          now: new Date(this.nowMs()),
        });
        this.relayed?.inc(moved);
        if (moved < (this.opts.batchSize ?? 200) || this.stopped) break;
      }
    } catch (err) {
      failure = err as Error;
    }
    try {
      this.state.lag = await measureOutboxLag(this.nowMs());
    } catch (err) {
      failure ??= err as Error;
    }
    this.state.lastError = failure?.message.slice(0, 200);
    if (failure && this.nowMs() - this.lastErrorLog > 30_000) {
      this.lastErrorLog = this.nowMs();
      this.opts.logger.warn(
        { err: failure.message, pending: this.state.lag?.pending },
        'outbox relay pass failed; retrying',
      );
    }
    const lag = this.state.lag;
    if (lag && lag.oldestAgeS > this.state.lagAlertS) {
      this.opts.alerts?.raise(
        'outbox_lag',
        'domain-events',
        `outbox relay lag ${Math.round(lag.oldestAgeS)} s (threshold ${this.state.lagAlertS} s), ${lag.pending} events pending${failure ? `: ${failure.message.slice(0, 120)}` : ''}`,
        { pending: lag.pending },
      );
    }
    return this.status();
  }

  start(): void {
    if (this.timer || this.running) return;
    this.stopped = false;
    const loop = () => {
      this.timer = undefined;
      this.running = this.runOnce()
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) {
            this.timer = setTimeout(loop, this.opts.intervalMs ?? 1000);
            this.timer.unref();
          }
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
