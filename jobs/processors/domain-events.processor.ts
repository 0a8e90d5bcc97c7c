import type { Job } from 'bullmq';
import type { CorpScope } from '../../src/domain/corps/corp-scope.js';
import type { DomainEvent } from '../../src/domain/events/domain-event.js';
import { DomainEventRecordModel } from '../../src/domain/events/domain-event-record.model.js';
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
 * whole list with the queue's backoff.
 */
export function createDomainEventsProcessor(handlers: readonly DomainEventHandler[]): ProcessorFactory {
  return (ctx: WorkerContext) => ({
    queue: QueueName.domainEvents,
    concurrency: 8,
    handlers: jobMap(QueueName.domainEvents, [
      on(domainEventJob, (event, job, log) => processDomainEvent(event, job, log, ctx, handlers)),
    ]),
  });
}

async function processDomainEvent(
  event: DomainEvent,
  job: Job,
  log: Logger,
  ctx: WorkerContext,
  handlers: readonly DomainEventHandler[],
): Promise<{ type: string; duplicate: boolean; skipped?: string }> {
  const eventId = job.id ?? `${event.type}-${event.sourceId}`;
  // One command: an event already processed does not match, and its upsert then collides with
  // the unique event id (E11000): a duplicate.
  const claimed = await DomainEventRecordModel.updateOne(
    { eventId, corpId: event.corpId, status: { $ne: 'processed' } },
    {
      $set: {
        type: event.type,
        sourceId: event.sourceId,
        occurredAt: new Date(event.occurredAt),
        customerId: event.customerId,
        externalUserId: event.externalUserId,
        userid: event.userid,
        vehicleId: event.vehicleId,
        taskId: event.taskId,
        data: event.data,
        status: 'processing',
      },
      $inc: { attempts: 1 },
      $unset: { error: 1 },
    },
    { upsert: true },
  ).then(
    () => true,
    (err: unknown) => {
      if ((err as { code?: unknown }).code === 11000) return false;
      throw err;
    },
  );
  if (!claimed) return { type: event.type, duplicate: true };
  const found = scopeFor(ctx, event.corpId, log);
  try {
    // The handlers share the customer's rows they read (src/infra/job-reads.ts).
    if (found.ok)
      await withJobReads(async () => {
        for (const handler of handlers) await handler.handle(event, found.scope, log.child({ handler: handler.name }));
      });
  } catch (err) {
    await DomainEventRecordModel.updateOne(
      { eventId },
      { $set: { status: 'failed', error: (err as Error).message.slice(0, 500) } },
    ).catch(() => undefined);
    throw err;
  }
  await DomainEventRecordModel.updateOne({ eventId }, { $set: { status: 'processed', processedAt: ctx.clock.now() } });
  return found.ok
    ? { type: event.type, duplicate: false }
    : { type: event.type, duplicate: false, skipped: found.refused };
}
