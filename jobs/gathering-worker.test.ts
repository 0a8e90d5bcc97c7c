/**
 * The welcome lane's worker (jobs/gathering-worker.ts): woken up after its queue ran empty, it
 * waits before taking the next job, so jobs added one by one in that moment are taken together;
 * every job still runs once, and a failed one is retried as BullMQ's own worker does.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../src/infra/logger.js';
import { createRedis } from '../src/infra/redis.js';
import { testConfig, uniqueName } from '../src/testing/env.js';
import { waitFor } from '../src/testing/wait.js';
import { GatheringWorker } from './gathering-worker.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const opened: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const close of opened.splice(0)) await close();
});

function setup(gatherMs: number, process: (job: Job) => Promise<unknown>) {
  const config = testConfig({ QUEUE_PREFIX: uniqueName('gather') });
  const producer = createRedis({ url: config.redis.url, role: 'producer', logger });
  const workerConn = createRedis({ url: config.redis.url, role: 'worker', logger });
  const queue = new Queue('gather', { connection: producer, prefix: config.redis.queuePrefix });
  const worker = new GatheringWorker('gather', process, {
    connection: workerConn,
    prefix: config.redis.queuePrefix,
    concurrency: 8,
  });
  worker.gatherMs = gatherMs;
  opened.push(async () => {
    await worker.close(true);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    producer.disconnect();
    workerConn.disconnect();
  });
  return { queue, worker };
}

describe('GatheringWorker', () => {
  it('takes the jobs added one by one after a drain together: one empty ask for the group, each job run once', async () => {
    const ran: string[] = [];
    const { queue, worker } = setup(600, async (job) => {
      ran.push(String(job.data.n));
    });
    await worker.waitUntilReady();
    await waitFor(async () => ((await queue.getWorkersCount()) > 0 ? true : undefined), 'worker registered');
    // Every "move to active" script run of the worker (the gathering wait is in front of these).
    const asks = vi.spyOn(Worker.prototype as unknown as { moveToActive: () => Promise<unknown> }, 'moveToActive');
    // Added 50 ms apart: BullMQ's own worker would wake up and take each before the next arrives.
    for (const n of [1, 2, 3]) {
      await queue.add('j', { n });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await waitFor(async () => ((await queue.getCompletedCount()) === 3 ? true : undefined), 'three jobs completed');
    expect(ran.sort()).toEqual(['1', '2', '3']);
    // Three jobs and one ask that found the queue empty; BullMQ's own worker asks after each wake-up.
    expect(asks).toHaveBeenCalledTimes(4);
  });

  it('retries a failed job as BullMQ does', async () => {
    let calls = 0;
    const { queue } = setup(50, async () => {
      calls += 1;
      if (calls === 1) throw new Error('first attempt fails');
      return 'ok';
    });
    const job = await queue.add('j', {}, { attempts: 2, backoff: { type: 'fixed', delay: 50 } });
    await waitFor(async () => ((await job.getState()) === 'completed' ? true : undefined), 'job completed', {
      timeoutMs: 10_000,
    });
    expect(calls).toBe(2);
  });
});
