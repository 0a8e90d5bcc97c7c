import { UnrecoverableError, type Job } from 'bullmq';
import { domainEventSchema } from '../../src/domain/events/domain-event.js';
import { DomainEventRecordModel } from '../../src/domain/events/domain-event-record.model.js';
import type { Logger } from '../../src/infra/logger.js';
import { QueueName } from '../../src/queues/queue-names.js';
import type { WorkerContext } from '../context.js';
import type { ProcessorFactory } from '../registry.js';
import type { DomainEventHandler } from './domain-event-handlers.js';

/**
 * `domain-events` (docs/architecture.md §4): records each event in `domain_events` (the trace), then runs every
 * registered handler in order (retention policy, rules engine, follow-ups). Handlers are
 * idempotent; a failure retries the whole list with the queue's backoff.
 */
export function createDomainEventsProcessor(handlers: readonly DomainEventHandler[]): ProcessorFactory {
  return (ctx: WorkerContext) => ({
    queue: QueueName.domainEvents,
    concurrency: 8,
    process: (job: Job, log: Logger) => processDomainEvent(job, log, ctx, handlers),
  });
}

async function processDomainEvent(job: Job, log: Logger, ctx: WorkerContext, handlers: readonly DomainEventHandler[]): Promise<{ type: string; duplicate: boolean }> {
  const parsed = domainEventSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`domain event does not fit the schema: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const event = parsed.data;
  const eventId = job.id ?? `${event.type}-${event.sourceId}`;
  const prior = await DomainEventRecordModel.findOne({ eventId }, { status: 1 }).lean();
  if (prior?.status === 'processed') return { type: event.type, duplicate: true };
  await DomainEventRecordModel.updateOne(
    { eventId },
    {
      $set: { type: event.type, corpId: event.corpId, sourceId: event.sourceId, occurredAt: new Date(event.occurredAt), customerId: event.customerId, externalUserId: event.externalUserId, userid: event.userid, vehicleId: event.vehicleId, taskId: event.taskId, data: event.data, status: 'processing' },
      $inc: { attempts: 1 },
      $unset: { error: 1 },
    },
    { upsert: true },
  );
  try {
    for (const handler of handlers) await handler.handle(event, ctx, log.child({ handler: handler.name }));
  } catch (err) {
    await DomainEventRecordModel.updateOne({ eventId }, { $set: { status: 'failed', error: (err as Error).message.slice(0, 500) } }).catch(() => undefined);
    throw err;
  }
  await DomainEventRecordModel.updateOne({ eventId }, { $set: { status: 'processed', processedAt: ctx.clock.now() } });
  return { type: event.type, duplicate: false };
}
