import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import { flushBatch, MESSAGE_BATCH_JOB, MESSAGE_POLL_JOB, pollBatch } from '../../src/domain/messages/message.service.js';
import { fireRuleActionSchedule } from '../../src/domain/rules/engine/engine.js';
import { ensureSweepScheduler, runSweepExclusive, SWEEP_TASK_NAME } from '../../src/domain/schedules/sweep.js';
import type { Logger } from '../../src/infra/logger.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { toJobError } from '../../src/wecom/job-errors.js';
import type { WorkerContext } from '../context.js';
import type { ProcessorFactory } from '../registry.js';
import type { MaintenanceTask } from './maintenance.processor.js';
import { engineDepsFor } from './rules-engine-deps.js';
import { backfillDateRule, RULES_BACKFILL_TASK } from './rules-backfill.task.js';

const scheduleJob = z.object({ scheduleId: z.string().min(1), corpId: z.string().min(1) });
const batchJob = z.object({ batchId: z.string().min(1), corpId: z.string().min(1) });

/**
 * A fired schedule of another kind (`follow_up` turns the schedule into a task). Returns what to
 * record as the job result.
 */
export type ScheduleKindHandler = (scheduleId: string, ctx: WorkerContext, log: Logger) => Promise<unknown>;
export const scheduleKindHandlers: Record<string, ScheduleKindHandler> = {};
/** Another named job on the `scheduled` queue (e.g. the tasks' debounced card delivery). */
export type ScheduledJobHandler = (job: Job, ctx: WorkerContext, log: Logger) => Promise<unknown>;

/** What features add to the `scheduled` processor (composed in jobs/registry.ts). */
export interface ScheduledProcessorOptions {
  kinds?: Readonly<Record<string, ScheduleKindHandler>>;
  jobs?: Readonly<Record<string, ScheduledJobHandler>>;
  /** Job schedulers to install when the worker starts, next to the sweep's. */
  schedulers?: ReadonlyArray<(queues: WorkerContext['queues']) => Promise<void>>;
}

async function processScheduled(job: Job, log: Logger, ctx: WorkerContext, opts: ScheduledProcessorOptions = {}): Promise<unknown> {
  const named = opts.jobs?.[job.name];
  if (named) return named(job, ctx, log);
  if (job.name === MESSAGE_BATCH_JOB || job.name === MESSAGE_POLL_JOB) {
    const data = batchJob.safeParse(job.data);
    if (!data.success) throw new UnrecoverableError(`${job.name} job data is invalid`);
    const deps = engineDepsFor(ctx, data.data.corpId, log);
    if (!deps) throw new Error(`corp ${data.data.corpId} is not loaded`);
    const attempt = Number(/-(\d+)$/.exec(job.id ?? '')?.[1] ?? 1);
    return job.name === MESSAGE_BATCH_JOB ? flushBatch(deps, data.data.batchId) : pollBatch(deps, data.data.batchId, attempt);
  }
  const data = scheduleJob.safeParse(job.data);
  if (!data.success) throw new UnrecoverableError(`scheduled job ${job.name} data is invalid`);
  if (job.name === 'rule_action') {
    const deps = engineDepsFor(ctx, data.data.corpId, log);
    if (!deps) throw new Error(`corp ${data.data.corpId} is not loaded`);
    return { outcome: await fireRuleActionSchedule(deps, data.data.scheduleId) };
  }
  const handler = opts.kinds?.[job.name] ?? scheduleKindHandlers[job.name];
  if (!handler) throw new Error(`no handler for schedules of kind ${job.name} in this build; the job is kept and retried`);
  return handler(data.data.scheduleId, ctx, log);
}

/**
 * `scheduled` queue (docs/architecture.md §6): due schedules moved by the sweep, message batches and result
 * polls. Also installs the minute sweep's job scheduler on `maintenance` when the worker starts
 * (idempotent upsert; one scheduler for the whole cluster).
 */
export function createScheduledProcessor(opts: ScheduledProcessorOptions = {}): ProcessorFactory {
  return (ctx: WorkerContext) => {
    for (const install of [ensureSweepScheduler, ...(opts.schedulers ?? [])]) {
      install(ctx.queues).catch((err: unknown) => ctx.logger.error({ err: (err as Error).message }, 'could not install a job scheduler'));
    }
    return {
      queue: QueueName.scheduled,
      concurrency: 8,
      async process(job, log) {
        try {
          return await processScheduled(job, log, ctx, opts);
        } catch (err) {
          throw toJobError(err);
        }
      },
    };
  };
}

/** The rules engine's maintenance tasks: the minute sweep and a new date rule's backfill. */
export const rulesMaintenanceTasks: Record<string, MaintenanceTask> = {
  [SWEEP_TASK_NAME]: (_job, log, ctx) => runSweepExclusive(ctx.redis, ctx.config.redis.queuePrefix, { queues: ctx.queues, now: ctx.clock.now(), log }),
  [RULES_BACKFILL_TASK]: (job, log, ctx) => backfillDateRule(job, log, ctx),
};
