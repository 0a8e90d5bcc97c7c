import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Queues } from '../../queues/queue-factory.js';
import { QueueName } from '../../queues/queue-names.js';
import { testRedisUrl, uniqueName } from '../../testing/env.js';
import { domainEventJobId, emitDomainEvent } from './domain-event.js';

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
const queues = new Queues(redis, uniqueName('de'));

afterAll(async () => {
  await queues.get(QueueName.domainEvents).obliterate({ force: true });
  await queues.close();
  redis.disconnect();
});

describe('domain events', () => {
  it('a replayed source emits one job; another discriminator emits another', async () => {
    const event = { type: 'customer.tag_added' as const, corpId: 'ww0001', sourceId: 'inbound-abc', occurredAt: new Date().toISOString(), externalUserId: 'wmX', data: { tagId: 'et1' } };
    const first = await emitDomainEvent(queues, event, 'et1');
    const again = await emitDomainEvent(queues, event, 'et1');
    const other = await emitDomainEvent(queues, { ...event, data: { tagId: 'et2' } }, 'et2');
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(await queues.get(QueueName.domainEvents).getJobCounts('waiting')).toEqual({ waiting: 2 });
    expect(first).not.toContain(':');
    expect(first).toMatch(/^customer-tag_added-/);
  });

  it('rejects events that do not fit the schema', async () => {
    await expect(emitDomainEvent(queues, { type: 'customer.exploded' as never, corpId: 'ww', sourceId: 's', occurredAt: 'yesterday' })).rejects.toThrow();
    expect(domainEventJobId({ type: 'customer.added', corpId: 'a', sourceId: 'b' })).toBe(domainEventJobId({ type: 'customer.added', corpId: 'a', sourceId: 'b' }));
  });
});
