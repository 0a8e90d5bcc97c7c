import type { Job } from 'bullmq';
import type { CorpScope } from '../../src/domain/corps/corp-scope.js';
import type { DomainEvent } from '../../src/domain/events/domain-event.js';
import { DomainEventLedger, failEvent, markQueued } from '../../src/domain/events/domain-event-ledger.js';
import type { InlineEvent, InlineEvents } from '../../src/domain/events/outbox.js';
import { queueDomainEvents } from '../../src/domain/events/outbox-relay.js';
import { forgetJobReads, withJobReads } from '../../src/infra/job-reads.js';
import type { Logger } from '../../src/infra/logger.js';
import { domainEventJob } from '../../src/queues/jobs/domain-events.jobs.js';
import { defaultJobOptions, QueueName } from '../../src/queues/queue-names.js';
import type { WorkerContext } from '../context.js';
import { jobMap, on, type ProcessorFactory } from '../processor.js';
import { scopeFor } from '../scope.js';

/**
 * A consumer of one domain event inside the `domain-events` processor. Each runs in order for
 * every event of a corp that runs background work, with that corp's scope, and must be idempotent
 * (at-least-once delivery): the retention policy (customers) first, then the rules engine, then
 * follow-up tasks.
 */
export interface DomainEventHandler {
  name: string;
  handle(event: DomainEvent, scope: CorpScope, log: Logger): Promise<void>;
}

/** What a run of inline events did (the inbound job's log). */
export interface InlineRunResult {
  processed: number;
  duplicates: number;
  /** Events whose consumers failed, handed to the `domain-events` queue to retry there. */
  queued: number;
}

/** Rounds of inline events a job runs: events its consumers record are run in the next round. */
const INLINE_ROUNDS = 3;

/** The first retry of an inline event that failed waits as long as the queue's first backoff. */
const firstBackoffMs = (): number => {
  const backoff = defaultJobOptions[QueueName.domainEvents].backoff;
  return typeof backoff === 'object' ? (backoff.delay ?? 1000) : (backoff ?? 1000);
};

/**
 * Runs domain events through the registered handlers with the `domain_events` ledger: one event
 * of a `domain-events` job (`process`), or the events an inbound job recorded, in that job after
 * its commit (`runInline`, docs/reliability.md "Domain events: the outbox"). The ledger's claims
 * and finishes submitted at the same moment go to MongoDB together (domain-event-ledger.ts).
 */
export class DomainEventRunner {
  readonly ledger: DomainEventLedger;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly handlers: readonly DomainEventHandler[],
    ledger?: DomainEventLedger,
  ) {
    this.ledger = ledger ?? new DomainEventLedger(() => ctx.clock.now());
  }

  /**
   * The handlers of one claimed event, in order, in its corp's scope and the caller's job reads;
   * the refusal when the corp runs no background work (then none ran).
   */
  private async consume(event: DomainEvent, log: Logger): Promise<string | undefined> {
    const found = scopeFor(this.ctx, event.corpId, log);
    if (!found.ok) return found.refused;
    for (const handler of this.handlers) await handler.handle(event, found.scope, log.child({ handler: handler.name }));
    return undefined;
  }

  /** One event of a `domain-events` job; a failure is recorded and rethrown (the job retries). */
  async process(
    eventId: string,
    event: DomainEvent,
    log: Logger,
  ): Promise<{ type: string; duplicate: boolean; skipped?: string }> {
    // Claimed with the other jobs' claims of this moment; an event already processed is a duplicate.
    if (!(await this.ledger.claim(eventId, event))) return { type: event.type, duplicate: true };
    let refused: string | undefined;
    try {
      // The handlers share the customer's rows they read (src/infra/job-reads.ts).
      refused = await withJobReads(() => this.consume(event, log));
    } catch (err) {
      await failEvent(eventId, event.corpId, err).catch(() => undefined);
      throw err;
    }
    await this.ledger.finish(eventId, event.corpId);
    return refused ? { type: event.type, duplicate: false, skipped: refused } : { type: event.type, duplicate: false };
  }

  /**
   * Runs the events an inbound job committed (its `InlineEvents`), inside that job's job reads and
   * sink, after its handlers. Their `domain_events` records were written in the job's transaction,
   * already claimed by it with a lease (docs/reliability.md "Domain events: the outbox"): their
   * consumers run per event in recorded order, and they are finished in one command. An event
   * whose consumers fail is recorded failed and queued on `domain-events` with the queue's first
   * backoff (it retries there as a job of its own would); events the consumers record are run in
   * the next round, those of the last round are queued. Anything not finished nor queued (a crash,
   * MongoDB or Redis away) keeps its lease, and the relay loop queues it once the lease expired.
   * Never throws: the inbound job's own change is committed.
   */
  async runInline(sink: InlineEvents, log: Logger): Promise<InlineRunResult> {
    const result: InlineRunResult = { processed: 0, duplicates: 0, queued: 0 };
    for (let round = 0; round < INLINE_ROUNDS; round++) {
      const events = sink.take();
      if (events.length === 0) return result;
      await this.runRound(events, log, result);
    }
    const left = sink.take();
    if (left.length > 0) await this.handOver(left, 0, log, result);
    return result;
  }

  /** Queues the events of an inbound job whose handlers failed after committing them. */
  async queueInline(sink: InlineEvents, log: Logger): Promise<void> {
    const events = sink.take();
    if (events.length > 0) await this.handOver(events, 0, log, { processed: 0, duplicates: 0, queued: 0 });
  }

  private async runRound(events: readonly InlineEvent[], log: Logger, result: InlineRunResult): Promise<void> {
    const ran: InlineEvent[] = [];
    const failed: InlineEvent[] = [];
    for (const e of events) {
      try {
        await this.consume(e.event, log);
        ran.push(e);
      } catch (err) {
        // What a failed consumer read or handed back is not for the next event's consumers.
        forgetJobReads();
        // Its lease ends now: should the queueing below fail, the relay loop takes it at once.
        await failEvent(e.id, e.event.corpId, err, this.ctx.clock.now()).catch(() => undefined);
        log.warn(
          { type: e.event.type, eventId: e.id, err: (err as Error).message },
          'inline domain event failed; queued',
        );
        failed.push(e);
      }
    }
    try {
      await Promise.all(ran.map((e) => this.ledger.finish(e.id, e.event.corpId)));
      result.processed += ran.length;
    } catch (err) {
      // Not recorded processed: run again from the queue, as a retried job would.
      log.warn({ events: ran.length, err: (err as Error).message }, 'inline domain events not finished; queued');
      failed.push(...ran);
    }
    if (failed.length > 0) await this.handOver(failed, firstBackoffMs(), log, result);
  }

  /**
   * Queues events whose ledger records this job leased, then marks them `queued` (lease cleared)
   * in one command. Either failing leaves the lease: the relay loop queues them once it expired.
   */
  private async handOver(
    events: readonly InlineEvent[],
    delayMs: number,
    log: Logger,
    result: InlineRunResult,
  ): Promise<void> {
    try {
      await queueDomainEvents(
        this.ctx.queues,
        events.map((e) => ({ _id: e.id, event: e.event })),
        delayMs,
      );
      result.queued += events.length;
    } catch (err) {
      log.warn({ events: events.length, err: (err as Error).message }, 'inline domain events left to the outbox relay');
      return;
    }
    await markQueued(
      events.map((e) => ({ eventId: e.id, corpId: e.event.corpId })),
      this.ctx.clock.now(),
    ).catch((err: Error) =>
      log.warn(
        { events: events.length, err: err.message },
        'inline domain events queued but not marked; the relay may queue them again',
      ),
    );
  }
}

/**
 * `domain-events` (docs/architecture.md §4): records each event in `domain_events` (the trace), then runs every
 * registered handler in order (retention policy, rules engine, follow-ups) in the corp's scope,
 * looked up once per event; an event of a car-maker, disabled or unknown corp runs no handler
 * (docs/architecture.md §11, "One corp scope"). Handlers are idempotent; a failure retries the
 * whole list with the queue's backoff. The ledger's claims and finishes of the jobs running at the
 * same moment go to MongoDB together (src/domain/events/domain-event-ledger.ts). The events of an
 * inbound job run in that job with the same handlers (`DomainEventRunner.runInline`).
 */
export function createDomainEventsProcessor(handlers: readonly DomainEventHandler[]): ProcessorFactory {
  return (ctx: WorkerContext) => {
    // One runner and ledger per worker: the claims and finishes of its concurrent jobs share their commands.
    const runner = new DomainEventRunner(ctx, handlers);
    return {
      queue: QueueName.domainEvents,
      concurrency: 8,
      handlers: jobMap(QueueName.domainEvents, [
        on(domainEventJob, (event, job, log) => processDomainEvent(event, job, log, runner)),
      ]),
    };
  };
}

export function processDomainEvent(
  event: DomainEvent,
  job: Pick<Job, 'id'>,
  log: Logger,
  runner: DomainEventRunner,
): Promise<{ type: string; duplicate: boolean; skipped?: string }> {
  return runner.process(job.id ?? `${event.type}-${event.sourceId}`, event, log);
}
