import { createHandlerRegistry } from '../src/domain/inbound/handlers.js';
import { QueueName } from '../src/queues/queue-names.js';
import type { WorkerContext } from './context.js';
import { jobMap, type JobEntry, type ProcessorFactory } from './processor.js';
import { alertsJobs, type AlertSender } from './processors/alerts.handlers.js';
import { customersJobs, retentionEventHandler } from './processors/customers.handlers.js';
import { broadcastsJobs } from './processors/broadcasts.handlers.js';
import { contentJobs } from './processors/content.handlers.js';
import { groupsJobs } from './processors/groups.handlers.js';
import { acquisitionEventHandler, acquisitionJobs } from './processors/acquisition.handlers.js';
import { createDomainEventsProcessor, type DomainEventHandler } from './processors/domain-events.processor.js';
import { createInboundProcessor } from './processors/inbound.processor.js';
import { kpisJobs } from './processors/kpis.handlers.js';
import { privacyJobs } from './processors/privacy.handlers.js';
import { rulesEngineEventHandler, rulesJobs } from './processors/rules.handlers.js';
import { outcomesEventHandler, outcomesJobs } from './processors/outcomes.handlers.js';
import { createRulesWelcomeSender } from './processors/rules-welcome.js';
import { tasksEventHandler, tasksJobs } from './processors/tasks.handlers.js';
import { createWelcomeProcessor } from './processors/welcome.processor.js';

export type { AlertSender };

export interface ProcessorOptions {
  /** Sends operator alerts as WeCom app messages. */
  sendAlert?: AlertSender;
  /** The corps this worker knows (ticks and per-corp schedulers go over them). */
  listCorpIds: () => string[];
  /**
   * Whether an inbound job runs the domain events its callback's handlers record itself (default)
   * or leaves them to the `domain-events` queue (docs/scale.md §4).
   */
  inlineDomainEvents?: boolean;
}

/** Every feature's job handlers (each bound to its contract, which names its queue). */
function featureJobs(ctx: WorkerContext, options: ProcessorOptions): JobEntry[] {
  return [
    ...rulesJobs(ctx),
    ...tasksJobs(ctx, options.listCorpIds),
    ...customersJobs(ctx, options.listCorpIds),
    ...privacyJobs(ctx),
    ...kpisJobs(ctx, options.listCorpIds),
    ...outcomesJobs(ctx),
    ...groupsJobs(ctx),
    ...contentJobs(ctx),
    ...acquisitionJobs(ctx, options.listCorpIds),
    ...broadcastsJobs(ctx, options.listCorpIds),
    ...alertsJobs(options.sendAlert),
  ];
}

/**
 * The consumers of every domain event, in order: the retention policy, the rules engine, follow-up
 * tasks, outcomes, acquisition. The `domain-events` processor runs them for queued events, the
 * inbound processor for the events of its callback, in its job (docs/reliability.md "Domain
 * events: the outbox").
 */
export function domainEventHandlers(ctx: WorkerContext): DomainEventHandler[] {
  return [
    retentionEventHandler,
    rulesEngineEventHandler,
    tasksEventHandler,
    outcomesEventHandler(ctx),
    acquisitionEventHandler(ctx),
  ];
}

/**
 * Every processor the worker runs, composed in one place (docs/architecture.md §4): callbacks into
 * typed events and the customers' handlers, then the domain events they record (in the same job);
 * the welcome lane; queued domain events through the retention policy, the rules engine, then
 * follow-up tasks; and the job maps of `scheduled` (fired
 * schedules, message batches, task cards, transfers) and `maintenance` (the sweep, the ticks,
 * reconciliation, privacy duties, operator alerts), each a plain map of job name → handler.
 */
export function createProcessorFactories(options: ProcessorOptions): ProcessorFactory[] {
  return [
    createInboundProcessor(
      createHandlerRegistry(),
      options.inlineDomainEvents === false ? {} : { events: domainEventHandlers },
    ),
    createWelcomeProcessor(createRulesWelcomeSender()),
    (ctx) => createDomainEventsProcessor(domainEventHandlers(ctx))(ctx),
    (ctx) => ({
      queue: QueueName.scheduled,
      concurrency: 8,
      handlers: jobMap(QueueName.scheduled, featureJobs(ctx, options)),
    }),
    (ctx) => ({
      queue: QueueName.maintenance,
      concurrency: 2,
      handlers: jobMap(QueueName.maintenance, featureJobs(ctx, options)),
    }),
  ];
}
