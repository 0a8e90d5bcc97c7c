/**
 * Failure classification in the worker runner (docs/architecture.md §4, "Failures"), for every
 * processor: a permanent WeCom error fails the job after one attempt; a rate limit pauses the
 * queue and puts the job back without using an attempt; anything else is retried with backoff.
 */
import type { Job, Queue } from 'bullmq';
import { MongoClient, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../src/infra/clock.js';
import { createLogger } from '../src/infra/logger.js';
import { createRedis } from '../src/infra/redis.js';
import { Queues } from '../src/queues/queue-factory.js';
import { QueueName } from '../src/queues/queue-names.js';
import { testConfig, uniqueName } from '../src/testing/env.js';
import { waitFor } from '../src/testing/wait.js';
import { offlineWecom } from '../src/testing/worker-deps.js';
import { WecomApiError } from '../src/wecom/errors.js';
import { LocalThrottleError } from '../src/wecom/rate-limit.js';
import type { WorkerContext } from './context.js';
import type { JobHandler } from './processor.js';
import { startWorkers, type RunningWorkers } from './worker-runner.js';

const logger = createLogger({ level: 'silent', name: 'test' });
/** The driver's MongoPoolClearedError (a MongoNetworkError it does not export). */
class PoolClearedError extends MongoNetworkError {
  override get name(): string {
    return 'MongoPoolClearedError';
  }
}
const opened: Array<() => Promise<void>> = [];

/** A worker on `scheduled` under a prefix of its own (a rate limit pauses the whole queue). */
function run(handlers: Record<string, JobHandler>) {
  const config = testConfig({ QUEUE_PREFIX: uniqueName('runner') });
  const producer = createRedis({ url: config.redis.url, role: 'producer', logger });
  const workerConn = createRedis({ url: config.redis.url, role: 'worker', logger });
  const queues = new Queues(producer, config.redis.queuePrefix);
  const ctx: WorkerContext = {
    config,
    logger,
    clock: new SystemClock(),
    redis: producer,
    queues,
    ...offlineWecom(config, logger),
  };
  const workers: RunningWorkers = startWorkers(
    ctx,
    workerConn,
    [() => ({ queue: QueueName.scheduled, concurrency: 1, handlers })],
    { intervalMs: 600_000 },
  );
  const queue = queues.get(QueueName.scheduled);
  opened.push(async () => {
    await workers.close(500);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queues.close();
    producer.disconnect();
    workerConn.disconnect();
  });
  return queue;
}

const finished = async (queue: Queue, job: Job) =>
  waitFor(
    async () => {
      const state = await job.getState();
      return state === 'completed' || state === 'failed' ? { state, job: await queue.getJob(job.id!) } : undefined;
    },
    `job ${job.id} finished`,
    { timeoutMs: 20_000 },
  );

afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

describe('worker runner: failure classification', () => {
  it('fails a permanent WeCom error (48002, 60020) after one attempt, as unrecoverable', async () => {
    let calls = 0;
    const queue = run({
      'probe-permanent': async (job) => {
        calls++;
        throw new WecomApiError(job.data.errcode as number, 'no', 'message/send');
      },
    });
    for (const errcode of [48002, 60020]) {
      const job = await queue.add(
        'probe-permanent',
        { errcode },
        { jobId: `perm-${errcode}`, attempts: 5, backoff: { type: 'fixed', delay: 10 } },
      );
      const out = await finished(queue, job);
      expect(out.state).toBe('failed');
      expect(out.job?.attemptsMade).toBe(1);
      expect(out.job?.failedReason).toContain(`errcode ${errcode}`);
    }
    expect(calls).toBe(2);
  });

  it('retries a transient failure with backoff until it succeeds', async () => {
    let calls = 0;
    const queue = run({
      'probe-transient': async () => {
        calls++;
        if (calls < 3) throw new WecomApiError(-1, 'system busy', 'externalcontact/get');
        return 'ok';
      },
    });
    const job = await queue.add(
      'probe-transient',
      {},
      { jobId: 'transient-1', attempts: 5, backoff: { type: 'fixed', delay: 10 } },
    );
    const out = await finished(queue, job);
    expect(out.state).toBe('completed');
    expect(out.job?.returnvalue).toBe('ok');
    expect(calls).toBe(3);
  });

  it('retries every failure a MongoDB outage produces (server selection, network, pool cleared, refused, transient transaction) until it succeeds (regression: docs/scale.md §2)', async () => {
    // The driver's own errors, as a restart produces them: a server selection that found no server...
    const client = new MongoClient('mongodb://127.0.0.1:1/none', { serverSelectionTimeoutMS: 100 });
    const selection = await client.connect().then(
      () => new Error('connected to port 1'),
      (err: Error) => err,
    );
    await client.close().catch(() => undefined);
    expect(selection).toBeInstanceOf(MongoServerSelectionError);
    const outage: Error[] = [
      selection,
      new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed'),
      // ... the pool cleared under a running operation (a MongoNetworkError subclass the driver does not export) ...
      new PoolClearedError('Connection pool for 127.0.0.1:27017 was cleared because another operation failed'),
      // ... and a transaction the restarted server no longer knows.
      new MongoServerError({
        message: 'Transaction has been aborted.',
        code: 251,
        errorLabels: ['TransientTransactionError'],
      }),
    ];
    let calls = 0;
    const queue = run({
      'probe-mongo-outage': async () => {
        const err = outage[calls++];
        if (err) throw err;
        return 'ok';
      },
    });
    const job = await queue.add(
      'probe-mongo-outage',
      {},
      { jobId: 'mongo-outage-1', attempts: 10, backoff: { type: 'fixed', delay: 10 } },
    );
    const out = await finished(queue, job);
    expect(out.state).toBe('completed');
    expect(out.job?.attemptsMade).toBe(outage.length + 1);
    expect(calls).toBe(outage.length + 1);
  });

  it('on 45009 pauses the queue (rate-limited state) and puts the job back without using an attempt', async () => {
    let calls = 0;
    const queue = run({
      'probe-45009': async () => {
        calls++;
        throw new WecomApiError(45009, 'api freq out of limit', 'externalcontact/get');
      },
    });
    const job = await queue.add('probe-45009', {}, { jobId: 'limit-45009', attempts: 1 });
    await waitFor(() => calls > 0, 'the first try');
    const ttl = await waitFor(async () => {
      const t = await queue.getRateLimitTtl();
      return t > 0 ? t : undefined;
    }, 'the queue rate-limited');
    expect(ttl).toBeGreaterThan(50_000); // 45009 blocks the minute window (docs/wecom.md §4)
    await waitFor(async () => ((await job.getState()) === 'waiting' ? true : undefined), 'the job back in waiting');
    const back = await queue.getJob(job.id!);
    expect(back?.attemptsMade).toBe(0);
    expect(calls).toBe(1);
  });

  it("retries a job after the client's own limiter pauses the queue, with its single attempt intact", async () => {
    let calls = 0;
    const queue = run({
      'probe-throttled': async () => {
        calls++;
        if (calls === 1) throw new LocalThrottleError('rate:message/send', 1000);
        return 'sent';
      },
    });
    // attempts: 1 — had the rate limit used the attempt, the job would have failed.
    const job = await queue.add('probe-throttled', {}, { jobId: 'throttled-1', attempts: 1 });
    const out = await finished(queue, job);
    expect(out.state).toBe('completed');
    expect(out.job?.returnvalue).toBe('sent');
    expect(calls).toBe(2);
  });

  it('retries a job whose name has no handler in this build (a newer worker may know it)', async () => {
    const queue = run({ known: async () => 'ok' });
    const job = await queue.add(
      'from-the-next-release',
      {},
      { jobId: 'unknown-1', attempts: 2, backoff: { type: 'fixed', delay: 10 } },
    );
    const out = await finished(queue, job);
    expect(out.state).toBe('failed');
    expect(out.job?.attemptsMade).toBe(2);
    expect(out.job?.failedReason).toContain('no handler');
  });
});
