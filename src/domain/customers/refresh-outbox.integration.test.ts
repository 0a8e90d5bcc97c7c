/**
 * Regression: `customer.added` was emitted to Redis after the MongoDB writes, only for a
 * relationship row inserted in the same call. When that emission failed (a Redis stall), the
 * retried job found the row and emitted nothing: the event was lost for good. With the outbox the
 * event is stored with the row and reaches the queue once Redis takes it (docs/reliability.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxEventModel } from '../events/outbox-event.model.js';
import { OutboxRelay } from '../events/outbox-relay.js';
import { createLogger } from '../../infra/logger.js';
import { createRedis, waitForRedis } from '../../infra/redis.js';
import { Queues } from '../../queues/queue-factory.js';
import { QueueName } from '../../queues/queue-names.js';
import { uniqueName } from '../../testing/env.js';
import { startPrivateRedis, type PrivateRedis } from '../../testing/redis-server.js';
import { waitFor } from '../../testing/wait.js';
import { startCustomerHarness, type CustomerHarness } from './customer.test-support.js';
import { refreshCustomerFromWecom } from './customer-refresh.service.js';
import { RelationshipModel } from './relationship.model.js';

let h: CustomerHarness;
// This test kills Redis: the queues under test use a private instance, never the shared one.
let server: PrivateRedis;

beforeAll(async () => {
  h = await startCustomerHarness('refresh-outbox');
  server = await startPrivateRedis();
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

describe('customer.added through the outbox', () => {
  it('survives a failed emission and the retry that finds the row already stored', async () => {
    const [corpId] = h.sandbox.world.seed({
      corps: [
        {
          members: [{ userid: 'zhangwei', name: '张伟' }],
          customers: [
            {
              external_userid: 'wmOutboxRefresh001',
              name: '测试客户戊',
              follows: [{ userid: 'zhangwei', state: 'delivery_qr9', createtime: 1767225600 }],
            },
          ],
        },
      ],
    }).corpIds as [string];
    const logger = createLogger({ level: 'silent', name: 'test' });
    const producer = createRedis({ url: server.url, role: 'producer', logger });
    await waitForRedis(producer, server.url, 5000);
    const queues = new Queues(producer, uniqueName('ro'));
    try {
      await queues.prepare([QueueName.domainEvents], 5000);
      const deps = { ...h.depsFor(corpId), queues };
      const opts = {
        externalUserId: 'wmOutboxRefresh001',
        sourceId: 'inbound-outbox-1',
        eventAt: h.clock.now(),
        addedBy: 'zhangwei',
      };

      await server.kill(); // Redis goes away between the MongoDB writes and the emission
      const first = await refreshCustomerFromWecom(deps, opts);
      expect(first.added.map((a) => a.userid)).toEqual(['zhangwei']);
      expect(await RelationshipModel.countDocuments({ corpId, externalUserId: 'wmOutboxRefresh001' })).toBe(1);

      // The job is retried: the row exists, so this call adds nothing and records nothing new.
      const retry = await refreshCustomerFromWecom(deps, opts);
      expect(retry.added).toEqual([]);
      const pending = await OutboxEventModel.find({ 'event.externalUserId': 'wmOutboxRefresh001' }).lean();
      expect(pending.map((r) => [r.type, r.status])).toEqual([['customer.added', 'pending']]);

      // Redis returns: the worker's relay delivers the event the old code lost.
      await server.restart();
      const relay = new OutboxRelay({ queues, logger });
      const status = await waitFor(
        async () => {
          const s = await relay.runOnce();
          return s.lag?.pending === 0 ? s : undefined;
        },
        'the relay to deliver once Redis is back',
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(status.lastError).toBeUndefined();
      const jobs = await queues.get(QueueName.domainEvents).getJobs(['waiting']);
      expect(jobs.map((j) => [j.id, j.name, j.data.userid, j.data.data?.state])).toEqual([
        [pending[0]?._id, 'customer.added', 'zhangwei', 'delivery_qr9'],
      ]);
    } finally {
      await queues.close();
      producer.disconnect();
    }
  }, 60_000);
});
