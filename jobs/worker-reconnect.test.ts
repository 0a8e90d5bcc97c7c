import { Queue, type ConnectionOptions } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../src/infra/clock.js';
import { createLogger } from '../src/infra/logger.js';
import { createRedis } from '../src/infra/redis.js';
import { Queues } from '../src/queues/queue-factory.js';
import { QueueName } from '../src/queues/queue-names.js';
import { testConfig } from '../src/testing/env.js';
import { startPrivateRedis, type PrivateRedis } from '../src/testing/redis-server.js';
import { waitFor } from '../src/testing/wait.js';
import { offlineWecom } from '../src/testing/worker-deps.js';
import type { WorkerContext } from './context.js';
import { startWorkers, type RunningWorkers } from './worker-runner.js';

/**
 * Regression for taskforcesh/bullmq#4585: after a Redis outage longer than `drainDelay` + 1 s an
 * idle v6 worker stayed parked and consumed nothing. 6.7.0 has the fix (PR #4586); this proves it
 * on the pinned version, with the watchdog off so the fix alone is tested.
 */
let redis: PrivateRedis;
let workers: RunningWorkers | undefined;
beforeAll(async () => {
  redis = await startPrivateRedis({ appendOnly: true });
});
afterAll(async () => {
  await workers?.close().catch(() => undefined);
  await redis?.stop();
});

describe('worker after a long Redis outage (BullMQ #4585)', () => {
  it('resumes consuming when Redis returns', async () => {
    const config = testConfig({ REDIS_URL: redis.url });
    const logger = createLogger({ level: 'silent', name: 'test' });
    const workerConn = createRedis({ url: redis.url, role: 'worker', logger });
    const producerConn = createRedis({ url: redis.url, role: 'producer', logger });
    const done: string[] = [];
    const ctx: WorkerContext = {
      config,
      logger,
      clock: new SystemClock(),
      redis: producerConn,
      queues: new Queues(producerConn, config.redis.queuePrefix),
      ...offlineWecom(config, logger),
    };
    workers = startWorkers(
      ctx,
      workerConn,
      [
        () => ({
          queue: QueueName.maintenance,
          concurrency: 1,
          options: { drainDelay: 1 },
          handlers: { probe: async (job) => void done.push(String(job.id)) },
        }),
      ],
      { intervalMs: 600_000 },
    );
    await waitFor(() => workers?.list()[0]?.isRunning(), 'worker running');

    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 3500)); // the fault itself: an outage > drainDelay + 1 s
    await redis.restart();

    const producer = new Queue(QueueName.maintenance, {
      connection: { url: redis.url } as unknown as ConnectionOptions,
      prefix: config.redis.queuePrefix,
    });
    await producer.addBulk([1, 2, 3].map((i) => ({ name: 'probe', data: {}, opts: { jobId: `after-${i}` } })));
    await waitFor(() => done.length === 3, '3 jobs consumed after the outage', { timeoutMs: 30_000 });
    expect(done.sort()).toEqual(['after-1', 'after-2', 'after-3']);
    await producer.close();
    await workers.close();
    workers = undefined;
    workerConn.disconnect();
    producerConn.disconnect();
  }, 60_000);
});
