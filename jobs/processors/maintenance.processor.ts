import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import { ALERT_JOB_NAME } from '../../src/ingest/alert-sink.js';
import type { Logger } from '../../src/infra/logger.js';
import { QueueName } from '../../src/queues/queue-names.js';
import type { WorkerContext } from '../context.js';
import type { ProcessorFactory } from '../registry.js';

/** A maintenance task by job name (sweeps, reconciliation, purges; composed in jobs/registry.ts). */
export type MaintenanceTask = (job: Job, log: Logger, ctx: WorkerContext) => Promise<unknown>;

const alertSchema = z.object({ corpId: z.string(), userIds: z.array(z.string()).min(1), text: z.string().max(2000) });

/**
 * Sends an operator alert as a WeCom app message (jobs/worker.ts wires it to the WeCom client).
 * Without a `sendAlert` the alert stays a log line (already written by the raiser) and this task
 * records that it could not deliver.
 */
export type AlertSender = (corpId: string, userIds: string[], text: string) => Promise<void>;

/** `maintenance` queue: dispatches on the job name to one of `tasks` (or sends an operator alert). */
export function createMaintenanceProcessor(tasks: Readonly<Record<string, MaintenanceTask>>, sendAlert?: AlertSender): ProcessorFactory {
  return (ctx) => ({
    queue: QueueName.maintenance,
    concurrency: 2,
    async process(job, log) {
      if (job.name === ALERT_JOB_NAME) {
        const data = alertSchema.safeParse(job.data);
        if (!data.success) throw new UnrecoverableError('alert job data is invalid');
        if (!sendAlert) {
          log.warn({ corpId: data.data.corpId }, 'no WeCom alert sender configured in this build; alert kept as a log line');
          return { delivered: false };
        }
        await sendAlert(data.data.corpId, data.data.userIds, data.data.text);
        return { delivered: true };
      }
      const task = tasks[job.name];
      if (!task) throw new UnrecoverableError(`no maintenance task named ${job.name}`);
      return task(job, log, ctx);
    },
  });
}
