import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../infra/logger.js';
import { createRedis, waitForRedis } from '../infra/redis.js';
import { startPrivateRedis, type PrivateRedis } from '../testing/redis-server.js';
import { uniqueName } from '../testing/env.js';
import { waitFor } from '../testing/wait.js';
import { Queues } from './queue-factory.js';
import { QueueName } from './queue-names.js';

// This test freezes Redis, so it runs its own private redis-server, never the shared one.
let server: PrivateRedis;

beforeAll(async () => {
  server = await startPrivateRedis();
});

afterAll(async () => {
  await server?.stop();
});

describe('queue handles that heal', () => {
  it('a handle whose first use fell into a Redis stall is replaced, and later adds succeed (regression: every add rejected "Command timed out" for the life of the process)', async () => {
    const redis = createRedis({
      url: server.url,
      role: 'producer',
      logger: createLogger({ level: 'silent', name: 'test' }),
    });
    await waitForRedis(redis, server.url, 5000);
    const queues = new Queues(redis, uniqueName('heal'));
    try {
      server.freeze();
      // First use of the handle during the stall: BullMQ's one-time INFO check times out (commandTimeout 2 s).
      await expect(
        queues.get(QueueName.domainEvents).add('customer.added', { n: 1 }, { jobId: 'heal-1' }),
      ).rejects.toThrow(/timed out/i);
      server.thaw();
      const job = await waitFor(
        async () => queues.get(QueueName.domainEvents).add('customer.added', { n: 2 }, { jobId: 'heal-2' }),
        'an add after the stall',
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(job.id).toBe('heal-2');
      expect(queues.replaced).toBeGreaterThanOrEqual(1);
      expect(await queues.check([QueueName.domainEvents])).toEqual([{ queue: QueueName.domainEvents, ok: true }]);
      expect(await queues.get(QueueName.domainEvents).getJobCounts('waiting')).toEqual({ waiting: 1 });
    } finally {
      server.thaw();
      await queues.close();
      redis.disconnect();
    }
  }, 30_000);

  it('prepare() creates and checks the handles a process needs, and check() reports a stall with its reason', async () => {
    const redis = createRedis({
      url: server.url,
      role: 'producer',
      logger: createLogger({ level: 'silent', name: 'test' }),
    });
    await waitForRedis(redis, server.url, 5000);
    const queues = new Queues(redis, uniqueName('prep'));
    try {
      expect(await queues.prepare([QueueName.domainEvents, QueueName.wecomWelcome], 5000)).toEqual([]);
      expect(
        queues
          .all()
          .map((q) => q.name)
          .sort(),
      ).toEqual([QueueName.domainEvents, QueueName.wecomWelcome].sort());
      server.freeze();
      const states = await queues.check([QueueName.domainEvents], 500);
      expect(states[0]).toMatchObject({ queue: QueueName.domainEvents, ok: false });
      expect(states[0]?.reason).toBeTruthy();
      server.thaw();
      await waitFor(
        async () => (await queues.check([QueueName.domainEvents], 1000))[0]?.ok,
        'the handle to answer again',
        { timeoutMs: 10_000, intervalMs: 100 },
      );
    } finally {
      server.thaw();
      await queues.close();
      redis.disconnect();
    }
  }, 30_000);
});
