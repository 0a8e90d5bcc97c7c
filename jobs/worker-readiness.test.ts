import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxRelayStatus } from '../src/domain/events/outbox-relay.js';
import { createLogger } from '../src/infra/logger.js';
import { createRedis, waitForRedis } from '../src/infra/redis.js';
import { Queues } from '../src/queues/queue-factory.js';
import { QueueName } from '../src/queues/queue-names.js';
import { createHealthRouter } from '../src/routes/health.routes.js';
import { uniqueName } from '../src/testing/env.js';
import { startPrivateRedis, type PrivateRedis } from '../src/testing/redis-server.js';
import { waitFor } from '../src/testing/wait.js';
import { OUTBOX_LAG_READY_S, outboxReadiness, queueReadiness } from './worker-readiness.js';

// Freezes Redis: a private instance, never the shared one.
let server: PrivateRedis;
beforeAll(async () => {
  server = await startPrivateRedis();
});
afterAll(async () => {
  server?.thaw();
  await server?.stop();
});

interface Readyz {
  status: string;
  dependencies: Record<
    string,
    { state: string; failing?: Array<{ queue: string; reason?: string }>; reason?: string; lagS?: number }
  >;
}

describe('worker readiness tells the truth', () => {
  it('is not ready while it cannot enqueue, says which queue and why, and is ready again once the handle healed', async () => {
    const logger = createLogger({ level: 'silent', name: 'test' });
    const redis = createRedis({ url: server.url, role: 'producer', logger });
    await waitForRedis(redis, server.url, 5000);
    const queues = new Queues(redis, uniqueName('ready'));
    let relayStatus: OutboxRelayStatus = { lagAlertS: OUTBOX_LAG_READY_S, lag: { pending: 0, oldestAgeS: 0 } };
    const health = createHealthRouter([
      {
        name: 'queues',
        critical: true,
        check: () => queueReadiness(queues, [QueueName.domainEvents, QueueName.wecomWelcome], 500),
      },
      { name: 'outbox', critical: true, check: async () => outboxReadiness({ status: () => relayStatus }) },
    ]);
    const app = new Koa().use(health.routes());
    const http = app.listen(0);
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/readyz`;
    const get = async () => {
      const res = await fetch(url);
      return { status: res.status, body: (await res.json()) as Readyz };
    };
    try {
      expect((await get()).status).toBe(200);

      // A stall during the handles' first use poisons them (BullMQ's cached INFO check).
      server.freeze();
      await expect(queues.get(QueueName.wecomWelcome).add('welcome.send', {}, { jobId: 'w-1' })).rejects.toThrow();
      const stalled = await get();
      expect(stalled.status).toBe(503);
      expect(stalled.body.dependencies.queues?.state).toBe('down');
      expect(stalled.body.dependencies.queues?.failing?.map((f) => f.queue)).toContain(QueueName.wecomWelcome);
      expect(stalled.body.dependencies.queues?.failing?.every((f) => Boolean(f.reason))).toBe(true);

      server.thaw();
      const healed = await waitFor(
        async () => {
          const res = await get();
          return res.status === 200 ? res : undefined;
        },
        'the worker to be ready after the stall',
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(healed.body.dependencies.queues?.state).toBe('up');
      await expect(queues.get(QueueName.wecomWelcome).add('welcome.send', {}, { jobId: 'w-2' })).resolves.toMatchObject(
        { id: 'w-2' },
      );

      // Outbox lag past the threshold: not ready, and it says why.
      relayStatus = {
        lagAlertS: OUTBOX_LAG_READY_S,
        lag: { pending: 12, oldestAgeS: OUTBOX_LAG_READY_S + 30 },
        lastError: 'Connection is closed.',
      };
      const lagging = await get();
      expect(lagging.status).toBe(503);
      expect(lagging.body.dependencies.outbox).toMatchObject({ state: 'down', lagS: OUTBOX_LAG_READY_S + 30 });
      expect(lagging.body.dependencies.outbox?.reason).toContain('Connection is closed.');
    } finally {
      server.thaw();
      http.close();
      await queues.close();
      redis.disconnect();
    }
  }, 40_000);
});
