import type { Job, WorkerOptions } from 'bullmq';
import type { z } from 'zod';
import type { Logger } from '../src/infra/logger.js';
import type { JobContract } from '../src/queues/job-contract.js';
import type { QueueName } from '../src/queues/queue-names.js';
import type { WorkerContext } from './context.js';

/** Runs one job; what it returns is recorded as the job's result. */
export type JobHandler = (job: Job, log: Logger) => Promise<unknown>;

/**
 * One BullMQ processor (docs/architecture.md §4): the queue it consumes and a plain map of job
 * name → handler. The worker runner looks the handler up and classifies its failures
 * (jobs/worker-runner.ts), so a handler only does its work.
 */
export interface ProcessorDefinition {
  queue: QueueName;
  concurrency: number;
  /** Extra BullMQ worker options (limiter, lockDuration ...). */
  options?: Partial<WorkerOptions>;
  /**
   * After its queue ran empty, the worker waits this long before taking the next job, so the jobs
   * added meanwhile are taken together (jobs/gathering-worker.ts; the welcome lane).
   */
  gatherMs?: number;
  handlers: Readonly<Record<string, JobHandler>>;
}

export type ProcessorFactory = (ctx: WorkerContext) => ProcessorDefinition;

/** A handler bound to its job contract: the payload arrives parsed (`contract.parse`). */
export interface JobEntry {
  // The entry erases the payload type: `on` checked it against the contract already.
  contract: JobContract<z.ZodType>;
  handle: JobHandler;
}

/** Binds a handler to a contract: the job's payload is parsed (a bad one fails at once) before `fn` runs. */
export function on<S extends z.ZodType>(
  contract: JobContract<S>,
  fn: (data: z.output<S>, job: Job, log: Logger) => Promise<unknown>,
): JobEntry {
  return {
    contract: contract as unknown as JobContract<z.ZodType>,
    handle: async (job, log) => fn(contract.parse(job), job, log),
  };
}

/**
 * The job map of one queue from handler entries: every name of each contract (its current name
 * and its legacy names, docs/architecture.md §11) → its handler. Entries of other queues are left
 * out; a name claimed twice is a wiring bug and throws when the worker starts.
 */
export function jobMap(queue: QueueName, entries: readonly JobEntry[]): Record<string, JobHandler> {
  const map: Record<string, JobHandler> = {};
  for (const { contract, handle } of entries) {
    if (contract.queue !== queue) continue;
    for (const name of contract.names) {
      if (map[name]) throw new Error(`job ${queue}/${name} has two handlers`);
      map[name] = handle;
    }
  }
  return map;
}
