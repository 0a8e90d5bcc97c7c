import type { Job } from 'bullmq';
import type { CorpScope } from '../../src/domain/corps/corp-scope.js';
import type { DomainEvent } from '../../src/domain/events/domain-event.js';
import { DomainEventLedger, failEvent } from '../../src/domain/events/domain-event-ledger.js';
import { withJobReads } from '../../src/infra/job-reads.js';
import type { Logger } from '../../src/infra/logger.js';
import { domainEventJob } from '../../src/queues/jobs/domain-events.jobs.js';
import { QueueName } from '../../src/queues/queue-names.js';
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

/**
 * `domain-events` (docs/architecture.md §4): records each event in `domain_events` (the trace), then runs every
 * registered handler in order (retention policy, rules engine, follow-ups) in the corp's scope,
 * looked up once per event; an event of a car-maker, disabled or unknown corp runs no handler
 * (docs/architecture.md §11, "One corp scope"). Handlers are idempotent; a failure retries the
 * whole list with the queue's backoff. The ledger's claims and finishes of the jobs running at the
 * same moment go to MongoDB together (src/domain/events/domain-event-ledger.ts).
 */
export function createDomainEventsProcessor(handlers: readonly DomainEventHandler[]): ProcessorFactory {
  return (ctx: WorkerContext) => {
    // One ledger per worker: the claims and finishes of its concurrent jobs share their commands.
    const ledger = new DomainEventLedger(() => ctx.clock.now());
    return {
      queue: QueueName.domainEvents,
      concurrency: 8,
      handlers: jobMap(QueueName.domainEvents, [
        on(domainEventJob, (event, job, log) => processDomainEvent(event, job, log, ctx, handlers, ledger)),
      ]),
    };
  };
}

export async function processDomainEvent(
  event: DomainEvent,
  job: Pick<Job, 'id'>,
  log: Logger,
  ctx: WorkerContext,
  handlers: readonly DomainEventHandler[],
  ledger: DomainEventLedger,
): Promise<{ type: string; duplicate: boolean; skipped?: string }> {
  const eventId = job.id ?? `${event.type}-${event.sourceId}`;
  // Claimed with the other jobs' claims of this moment (domain-event-ledger.ts); an event already
  // processed is a duplicate.
  if (!(await ledger.claim(eventId, event))) return { type: event.type, duplicate: true };
  const found = scopeFor(ctx, event.corpId, log);
  try {
    // The handlers share the customer's rows they read (src/infra/job-reads.ts).
    if (found.ok)
      await withJobReads(async () => {
        for (const handler of handlers) await handler.handle(event, found.scope, log.child({ handler: handler.name }));
      });
  } catch (err) {
    await failEvent(eventId, event.corpId, err).catch(() => undefined);
    throw err;
  }
  await ledger.finish(eventId, event.corpId);
  return found.ok
    ? { type: event.type, duplicate: false }
    : { type: event.type, duplicate: false, skipped: found.refused };
}
