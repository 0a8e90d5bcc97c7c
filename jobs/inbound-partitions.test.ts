/**
 * The inbound queue split by corp (INBOUND_PARTITIONS, docs/scale.md, "Inbound partitions"): a
 * corp's callbacks land in one partition in the order they came, their de-duplication marks in
 * that partition's queue, and the worker consumes every partition. Runs on one Redis (server
 * project) and again on the real Redis Cluster (cluster project), where the partitions must sit
 * in slots of their own, on more than one master.
 */
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../src/infra/clock.js';
import { createLogger } from '../src/infra/logger.js';
import { createRedis } from '../src/infra/redis.js';
import { Queues } from '../src/queues/queue-factory.js';
import {
  partitionName,
  partitionNames,
  partitionOf,
  queueKeyName,
  QueueName,
  queueOfHandle,
} from '../src/queues/queue-names.js';
import { testConfig, testRedisMode, uniqueName } from '../src/testing/env.js';
import { waitFor } from '../src/testing/wait.js';
import { offlineWecom } from '../src/testing/worker-deps.js';
import { INBOUND_JOB_NAME, InboundProducer } from '../src/ingest/inbound.producer.js';
import type { WorkerContext } from './context.js';
import { startWorkers } from './worker-runner.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const K = 3;
const config = testConfig({ QUEUE_PREFIX: uniqueName('part'), INBOUND_PARTITIONS: String(K) });
const mode = config.redis.mode;
const producer = createRedis({ url: config.redis.url, mode, role: 'producer', logger, connectionName: 'part' });
const workerConn = createRedis({ url: config.redis.url, mode, role: 'worker', logger, connectionName: 'part-w' });
const queues = new Queues(producer, config.redis.queuePrefix, mode, config.inboundPartitions);

afterAll(async () => {
  for (const queue of queues.partitions(QueueName.wecomInbound))
    await queue.obliterate({ force: true }).catch(() => undefined);
  await queues.close();
  producer.disconnect();
  workerConn.disconnect();
});

/** Corp ids that cover every partition, two each (found by the hash itself, so the test does not depend on its values). */
function corpsPerPartition(): string[] {
  const corps: string[] = [];
  const count = new Array<number>(K).fill(0);
  for (let i = 0; corps.length < 2 * K; i++) {
    const corpId = `wwpart${i}`;
    const p = partitionOf(corpId, K);
    if ((count[p] ?? 0) < 2) {
      count[p] = (count[p] ?? 0) + 1;
      corps.push(corpId);
    }
  }
  return corps;
}

describe('inbound partitions: names and the corp hash', () => {
  it('keeps the single queue name with one partition, so an upgrade keeps the queued jobs', () => {
    expect(partitionNames(QueueName.wecomInbound, 1)).toEqual(['wecom-inbound']);
    expect(partitionNames(QueueName.wecomInbound, 3)).toEqual([
      'wecom-inbound',
      'wecom-inbound-p1',
      'wecom-inbound-p2',
    ]);
    expect(partitionNames(QueueName.scheduled, 3)).toEqual(['scheduled']);
    expect(queueOfHandle('wecom-inbound-p2')).toEqual({ queue: 'wecom-inbound', partition: 2 });
    expect(queueOfHandle('domain-events')).toEqual({ queue: 'domain-events', partition: 0 });
    expect(new Queues(producer, 'x').handleNames()).toEqual(Object.values(QueueName));
  });

  it('maps a corp to one stable partition (FNV-1a of the corp id), and spreads corps over all of them', () => {
    // Fixed values: a change of the hash would move every corp and reorder their queued events.
    expect(partitionOf('a', 7)).toBe(0xe40c292c % 7); // FNV-1a("a"), the published test vector
    expect(partitionOf('foobar', 5)).toBe(0xbf9cf968 % 5);
    expect(partitionOf('anything', 1)).toBe(0);
    const seen = new Set(Array.from({ length: 100 }, (_, i) => partitionOf(`ww${i}`, K)));
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });
});

describe('inbound partitions on Redis', () => {
  const corps = corpsPerPartition();

  it("puts a corp's callbacks in its partition, in order, with their de-duplication marks there", async () => {
    const inbound = new InboundProducer(queues, 60_000);
    // Interleaved across corps, as callbacks arrive.
    for (let n = 0; n < 5; n++)
      await Promise.all(
        corps.map((corpId) =>
          inbound.enqueue(`${corpId}-e${n}`, { corpId, receivedAt: n, xmlSealed: `sealed-${corpId}-${n}` }),
        ),
      );
    // A retry of every callback adds nothing.
    await Promise.all(
      corps.map((corpId) => inbound.enqueue(`${corpId}-e0`, { corpId, receivedAt: 0, xmlSealed: 'x' })),
    );

    const partitions = queues.partitions(QueueName.wecomInbound);
    expect(partitions).toHaveLength(K);
    for (const [p, queue] of partitions.entries()) {
      const jobs = await queue.getJobs(['waiting'], 0, -1, true);
      const mine = corps.filter((c) => partitionOf(c, K) === p);
      expect(mine.length).toBe(2);
      expect(jobs).toHaveLength(mine.length * 5);
      for (const corpId of mine)
        expect(jobs.filter((j) => (j.data as { corpId: string }).corpId === corpId).map((j) => j.id)).toEqual(
          [0, 1, 2, 3, 4].map((n) => `${corpId}-e${n}`),
        );
      const base = `${config.redis.queuePrefix}:${queueKeyName(partitionName(QueueName.wecomInbound, p), mode)}`;
      for (const corpId of mine) expect(await producer.exists(`${base}:de:${corpId}-e0`)).toBe(1);
    }
  });

  it.runIf(testRedisMode() === 'cluster')('sits in a hash slot per partition, over more than one master', async () => {
    const cluster = producer as unknown as Cluster;
    const slots = partitionNames(QueueName.wecomInbound, K).map((name) =>
      calculateSlot(`${config.redis.queuePrefix}:${queueKeyName(name, 'cluster')}:wait`),
    );
    expect(new Set(slots).size).toBe(K);
    const masters = await waitFor(() => {
      const owners = slots.map((slot) => cluster.slots[slot]?.[0]);
      return owners.every(Boolean) ? owners : undefined;
    }, 'the slot map');
    expect(new Set(masters).size).toBeGreaterThan(1);
  });

  it('has the worker consume every partition', async () => {
    const seen: string[] = [];
    const ctx: WorkerContext = {
      config,
      logger,
      clock: new SystemClock(),
      redis: producer,
      queues,
      ...offlineWecom(config, logger),
    };
    const workers = startWorkers(
      ctx,
      workerConn,
      [
        () => ({
          queue: QueueName.wecomInbound,
          concurrency: 1,
          handlers: { [INBOUND_JOB_NAME]: async (job) => void seen.push(String(job.id)) },
        }),
      ],
      { intervalMs: 600_000 },
    );
    try {
      expect(workers.list().map((w) => queueOfHandle(w.name.replace(/[{}]/g, '')).partition)).toEqual([0, 1, 2]);
      await waitFor(() => seen.length === corps.length * 5, 'every partition drained', { timeoutMs: 20_000 });
      expect(new Set(seen).size).toBe(corps.length * 5);
    } finally {
      await workers.close(1000);
    }
  });
});
