import { Worker, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerContext } from './context.js';
import type { ProcessorFactory } from './registry.js';

/**
 * Starts one BullMQ Worker per processor, each job with a child logger carrying
 * queue, job id and attempt (conventions §7). Returns the workers for shutdown and health.
 */
export function startWorkers(ctx: WorkerContext, connection: Redis, factories: readonly ProcessorFactory[]): Worker[] {
  return factories.map((factory) => {
    const def = factory(ctx);
    const worker = new Worker(
      def.queue,
      async (job) => {
        const log = ctx.logger.child({ queue: def.queue, jobId: job.id, jobName: job.name, attempt: job.attemptsMade + 1 });
        return def.process(job, log);
      },
      {
        connection: connection as unknown as ConnectionOptions,
        prefix: ctx.config.redis.queuePrefix,
        concurrency: def.concurrency,
        ...def.options,
      },
    );
    worker.on('error', (err) => ctx.logger.error({ queue: def.queue, err: err.message }, 'worker error'));
    worker.on('failed', (job, err) => {
      ctx.logger.warn({ queue: def.queue, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed');
    });
    return worker;
  });
}
