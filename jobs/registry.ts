import type { Job, WorkerOptions } from 'bullmq';
import type { QueueName } from '../src/queues/queue-names.js';
import type { Logger } from '../src/infra/logger.js';
import type { WorkerContext } from './context.js';

/** One BullMQ processor: the queue it consumes and how. */
export interface ProcessorDefinition {
  queue: QueueName;
  concurrency: number;
  /** Extra BullMQ worker options (limiter, lockDuration ...). */
  options?: Partial<WorkerOptions>;
  process: (job: Job, log: Logger) => Promise<unknown>;
}

export type ProcessorFactory = (ctx: WorkerContext) => ProcessorDefinition;

/**
 * Every processor the worker runs. Features register theirs here; the worker starts one
 * BullMQ Worker per entry.
 */
export const processorFactories: ProcessorFactory[] = [];
