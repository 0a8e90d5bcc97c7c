import type { Job, WorkerOptions } from 'bullmq';
import { createHandlerRegistry } from '../src/domain/inbound/handlers.js';
import type { Logger } from '../src/infra/logger.js';
import type { QueueName } from '../src/queues/queue-names.js';
import type { WorkerContext } from './context.js';
import { acquisitionEventHandler, acquisitionMaintenanceTasks, acquisitionScheduledJobs, ensureAcquisitionSchedulers } from './processors/acquisition.jobs.js';
import { customerMaintenanceTasks } from './processors/customer-maintenance.tasks.js';
import { createDomainEventsProcessor } from './processors/domain-events.processor.js';
import { createInboundProcessor } from './processors/inbound.processor.js';
import { ensureKpiTickScheduler, kpiMaintenanceTasks } from './processors/kpis.tasks.js';
import { createMaintenanceProcessor, type AlertSender } from './processors/maintenance.processor.js';
import { privacyMaintenanceTasks } from './processors/privacy.tasks.js';
import { retentionHandler } from './processors/retention.handler.js';
import { rulesEngineHandler } from './processors/rules-engine.handler.js';
import { createRulesWelcomeSender } from './processors/rules-welcome.js';
import { createScheduledProcessor, rulesMaintenanceTasks } from './processors/scheduled.processor.js';
import { ensureTaskTickScheduler, taskMaintenanceTasks, taskScheduleKinds, taskScheduledJobs, tasksEventHandler } from './processors/tasks.jobs.js';
import { createWelcomeProcessor } from './processors/welcome.processor.js';

/** One BullMQ processor: the queue it consumes and how. */
export interface ProcessorDefinition {
  queue: QueueName;
  concurrency: number;
  /** Extra BullMQ worker options (limiter, lockDuration ...). */
  options?: Partial<WorkerOptions>;
  process: (job: Job, log: Logger) => Promise<unknown>;
}

export type ProcessorFactory = (ctx: WorkerContext) => ProcessorDefinition;

export interface ProcessorOptions {
  /** Sends operator alerts as WeCom app messages. */
  sendAlert?: AlertSender;
  /** The corps this worker knows (for per-corp schedulers). */
  listCorpIds: () => string[];
}

/**
 * Every processor the worker runs, composed in one place (docs/architecture.md §4): callbacks into typed
 * events and the customers' handlers; the welcome lane; domain events through the retention
 * policy, the rules engine, then follow-up tasks; fired schedules (follow-ups become tasks);
 * maintenance tasks (the sweep, reconciliation, the tasks' minute tick).
 */
export function createProcessorFactories(options: ProcessorOptions): ProcessorFactory[] {
  return [
    createInboundProcessor(createHandlerRegistry()),
    createWelcomeProcessor(createRulesWelcomeSender()),
    createDomainEventsProcessor([retentionHandler, rulesEngineHandler, tasksEventHandler, acquisitionEventHandler]),
    createScheduledProcessor({ kinds: taskScheduleKinds, jobs: { ...taskScheduledJobs, ...acquisitionScheduledJobs }, schedulers: [ensureTaskTickScheduler, ensureKpiTickScheduler, ensureAcquisitionSchedulers] }),
    createMaintenanceProcessor({ ...rulesMaintenanceTasks, ...customerMaintenanceTasks(options.listCorpIds), ...taskMaintenanceTasks(options.listCorpIds), ...kpiMaintenanceTasks(options.listCorpIds), ...acquisitionMaintenanceTasks(options.listCorpIds), ...privacyMaintenanceTasks }, options.sendAlert),
  ];
}
