import { UnrecoverableError, type Job } from 'bullmq';
import type { z } from 'zod';
import { createHandlerRegistry } from '../../src/domain/inbound/handlers.js';
import type { HandlerRegistry } from '../../src/domain/inbound/handler-registry.js';
import { InboundEventModel } from '../../src/domain/inbound/inbound-event.model.js';
import { InlineEvents } from '../../src/domain/events/outbox.js';
import { dedupKeyFor } from '../../src/ingest/dedup.js';
import { withJobReads } from '../../src/infra/job-reads.js';
import { openInboundXml } from '../../src/ingest/inbound-seal.js';
import type { Logger } from '../../src/infra/logger.js';
import { callbackReceivedJob } from '../../src/queues/jobs/inbound.jobs.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { EventParseError, parseEvent, type TypedEvent } from '../../src/wecom/events.js';
import type { WorkerContext } from '../context.js';
import { jobMap, on, type ProcessorDefinition, type ProcessorFactory } from '../processor.js';
import { scopeFor } from '../scope.js';
import { DomainEventRunner, type DomainEventHandler, type InlineRunResult } from './domain-events.processor.js';

/** The ids an inbound_events record keeps: enough to find the subject, no personal data. */
export function idsOf(event: TypedEvent): Record<string, string> {
  const ids: Record<string, string | undefined> = { fromUserName: event.fromUserName };
  switch (event.kind) {
    case 'change_external_contact':
      Object.assign(ids, { userId: event.userId, externalUserId: event.externalUserId });
      break;
    case 'change_external_chat':
      ids.chatId = event.chatId;
      break;
    case 'change_external_tag':
      ids.tagId = event.id;
      break;
    case 'change_contact':
      Object.assign(ids, { userId: event.userId, partyId: event.id, tagId: event.tagId });
      break;
    case 'template_card_event':
    case 'template_card_menu_event':
      ids.taskId = event.taskId;
      break;
    case 'message':
      ids.msgId = event.msgId;
      break;
    default:
      break;
  }
  return Object.fromEntries(
    Object.entries(ids).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
  );
}

/**
 * `wecom-inbound` (docs/architecture.md §4): parse the decrypted XML into a typed event, write the
 * inbound_events record (unique on the de-duplication key: a replay of a processed event is a
 * no-op), dispatch to the handler registry. Transient failures throw (retried with the queue's
 * backoff, failed jobs kept); unparseable XML is recorded and fails at once (UnrecoverableError).
 *
 * The corp's scope is looked up once per callback and handed to the handlers. A callback of a
 * disabled corp, still queued or spooled when the corp was switched off, runs no handler: it is
 * recorded as `skipped` (reason `disabled_corp`) and completes, so switching the corp on again
 * does not replay stale events (docs/architecture.md §11, "One corp scope").
 *
 * With `options.events`, the domain events the handlers commit are run in the same job after them
 * (docs/reliability.md "Domain events: the outbox"; docs/scale.md §4): by the consumers the
 * `domain-events` processor runs, with the same ledger, sharing the job's reads with the handlers.
 * Without it they go to the `domain-events` queue as everywhere else. Either way the handlers run
 * in one `withJobReads` scope (src/infra/job-reads.ts).
 */
export function createInboundProcessor(
  registry: HandlerRegistry = createHandlerRegistry(),
  options: InboundProcessorOptions = {},
): ProcessorFactory {
  return (ctx: WorkerContext): ProcessorDefinition => {
    const inline = options.events
      ? { runner: new DomainEventRunner(ctx, options.events(ctx)), leaseMs: options.leaseMs }
      : undefined;
    return {
      queue: QueueName.wecomInbound,
      concurrency: 16,
      handlers: jobMap(QueueName.wecomInbound, [
        on(callbackReceivedJob, (data, job, log) => processInbound(data, job, log, ctx, registry, inline)),
      ]),
    };
  };
}

export interface InboundProcessorOptions {
  /** The consumers of domain events (jobs/registry.ts): given, a callback's events run in its job. */
  events?: (ctx: WorkerContext) => readonly DomainEventHandler[];
  /** The lease of the inline events' `domain_events` records (default `INLINE_EVENT_LEASE_MS`). */
  leaseMs?: number;
}

interface InlineRun {
  runner: DomainEventRunner;
  leaseMs?: number;
}

/** The inbox ledger through the driver, for the claim and the mark of every callback. */
const inboundLedger = () => InboundEventModel.collection;

async function processInbound(
  data: z.output<typeof callbackReceivedJob.schema>,
  job: Job,
  log: Logger,
  ctx: WorkerContext,
  registry: HandlerRegistry,
  inline: InlineRun | undefined,
): Promise<{ type: string; duplicate: boolean; skipped?: string; events?: InlineRunResult }> {
  const { corpId, receivedAt } = data;
  let xml: string;
  try {
    xml = openInboundXml(ctx.pd.cipher, String(job.id), data);
  } catch (err) {
    // A payload that does not open under this job id (another key set, or moved) never will.
    throw new UnrecoverableError(`wecom-inbound job payload does not open: ${(err as Error).message}`);
  }
  const dedupKey = dedupKeyFor(corpId, xml);
  const metrics = ctx.metrics;

  let event: TypedEvent;
  try {
    event = parseEvent(xml);
  } catch (err) {
    if (!(err instanceof EventParseError)) throw err;
    await InboundEventModel.updateOne(
      { dedupKey },
      {
        $set: {
          corpId,
          type: 'unparseable',
          receivedAt: new Date(receivedAt),
          status: 'unparseable',
          error: err.message,
        },
        $inc: { attempts: 1 },
      },
      { upsert: true },
    );
    metrics?.inboundProcessed.inc({ type: 'unparseable', outcome: 'failed' });
    throw new UnrecoverableError(`unparseable callback: ${err.message}`);
  }

  // One command: a processed key does not match, and its upsert then collides with the unique
  // key (E11000): a replay, a no-op. Through the driver (docs/scale.md §4): the values are
  // already of their stored types, so the schema's timestamps are written here.
  const claimedAt = new Date();
  const claimed = await inboundLedger()
    .updateOne(
      { dedupKey, corpId, status: { $ne: 'processed' } },
      {
        $set: {
          type: event.key,
          ids: idsOf(event),
          ...(event.createTime ? { createTime: new Date(event.createTime * 1000) } : {}),
          receivedAt: new Date(receivedAt),
          status: 'processing',
          updatedAt: claimedAt,
        },
        $setOnInsert: { createdAt: claimedAt },
        $inc: { attempts: 1 },
        $unset: { error: 1 },
      },
      { upsert: true },
    )
    .then(
      () => true,
      (err: unknown) => {
        if ((err as { code?: unknown }).code === 11000) return false;
        throw err;
      },
    );
  if (!claimed) {
    metrics?.inboundProcessed.inc({ type: event.key, outcome: 'duplicate' });
    return { type: event.key, duplicate: true };
  }
  if (event.kind === 'unknown')
    log.info(
      { type: event.key, msgType: event.msgType, event: event.event, changeType: event.changeType },
      'unknown callback type recorded',
    );

  const found = scopeFor(ctx, corpId, log);
  if (!found.ok && found.refused === 'disabled_corp') {
    await InboundEventModel.updateOne(
      { dedupKey },
      { $set: { status: 'skipped', error: `skipped: ${found.refused}`, processedAt: ctx.clock.now() } },
    );
    metrics?.inboundProcessed.inc({ type: event.key, outcome: 'skipped' });
    log.info({ corpId, type: event.key }, 'callback of a disabled corp skipped');
    return { type: event.key, duplicate: false, skipped: found.refused };
  }
  const handlerCtx = {
    corp: ctx.corps?.get(corpId),
    scope: found.ok ? found.scope : undefined,
    logger: log,
    clock: ctx.clock,
    queues: ctx.queues,
    config: ctx.config,
    dedupKey,
    receivedAt: new Date(receivedAt),
    welcomeEnqueued: data.welcomeEnqueued === true,
    wecom: ctx.wecom,
    pd: ctx.pd,
    redis: ctx.redis,
    tuning: ctx.tuning,
  };
  const handlers = registry.resolve(event);
  const sink = inline ? new InlineEvents(inline.leaseMs) : undefined;
  // One scope for the handlers and the consumers of the events they record: the consumers reuse
  // the rows the handlers read or handed back (src/infra/job-reads.ts).
  return withJobReads(async () => {
    try {
      for (const handler of handlers) await handler(event, handlerCtx);
      await inboundLedger().updateOne(
        { dedupKey },
        { $set: { status: 'processed', processedAt: ctx.clock.now(), updatedAt: new Date() } },
      );
    } catch (err) {
      const message = (err as Error).message.slice(0, 500);
      await InboundEventModel.updateOne({ dedupKey }, { $set: { status: 'failed', error: message } }).catch(
        () => undefined,
      );
      // What the handlers committed before the failure is delivered as before: through the queue.
      if (sink && inline) await inline.runner.queueInline(sink, log);
      metrics?.inboundProcessed.inc({ type: event.key, outcome: 'error' });
      throw err;
    }
    metrics?.inboundProcessed.inc({ type: event.key, outcome: 'processed' });
    // The callback's own change is committed and recorded: its events run now, in this job.
    const events = sink && inline ? await inline.runner.runInline(sink, log) : undefined;
    return events && events.processed + events.duplicates + events.queued > 0
      ? { type: event.key, duplicate: false, events }
      : { type: event.key, duplicate: false };
  }, sink);
}
