/**
 * A Redis Cluster master dies (docs/scale.md, "Failover"): on a cluster of its own, the master
 * serving `wecom-inbound` is killed; its replica is promoted, and the callback script's writes and
 * the BullMQ worker carry on through the same connections, without a restart. A job written
 * (and replicated) before the kill is neither lost nor written again after it.
 */
import { Worker, type ConnectionOptions } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DedupJobWriter, writeDedupJobs } from '../ingest/dedup-job-writer.js';
import { Queues } from '../queues/queue-factory.js';
import { QueueName, queueKeyName } from '../queues/queue-names.js';
import { uniqueName } from '../testing/env.js';
import { startPrivateRedisCluster, type PrivateRedisCluster } from '../testing/redis-cluster.js';
import { waitFor } from '../testing/wait.js';
import { createLogger } from './logger.js';
import { createRedis, pingRedis } from './redis.js';

const logger = createLogger({ level: 'silent', name: 'test' });
let cluster: PrivateRedisCluster;
beforeAll(async () => {
  cluster = await startPrivateRedisCluster();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('Redis Cluster failover', () => {
  it('keeps writing callbacks and working jobs through a master failover, each job once', async () => {
    const producer = createRedis({ url: cluster.url, mode: 'cluster', role: 'producer', logger });
    const workerConnection = createRedis({ url: cluster.url, mode: 'cluster', role: 'worker', logger });
    const queues = new Queues(producer, uniqueName('q'), 'cluster');
    const seen: string[] = [];
    let worker: Worker | undefined;
    try {
      await waitFor(() => pingRedis(producer), 'producer connection', { timeoutMs: 10_000 });
      const writer = new DedupJobWriter(queues.get(QueueName.wecomInbound), 'callback', 60_000);
      const write = (id: string) => writeDedupJobs([{ writer, jobs: [{ id, data: { id } }] }]);
      worker = new Worker(queueKeyName(QueueName.wecomInbound, 'cluster'), async (job) => {
        seen.push(String(job.id));
      }, { connection: workerConnection as unknown as ConnectionOptions, prefix: queues.prefix });
      worker.on('error', () => undefined);

      expect(await write('ww1-hbefore')).toEqual([true]);
      await waitFor(async () => seen.includes('ww1-hbefore'), 'the job written before the kill processed', { timeoutMs: 15_000 });

      const key = `${queues.prefix}:${queueKeyName(QueueName.wecomInbound, 'cluster')}:wait`;
      const victim = await cluster.masterOf(key);
      if (!victim) throw new Error('no master serves the inbound slot');
      // The job and its mark reached the replica before the kill (replication is asynchronous: docs/scale.md).
      await waitFor(async () => {
        const replicated = await producer.call('WAIT', '1', '1000').catch(() => 0);
        return Number(replicated) >= 1;
      }, 'replication to the replica', { timeoutMs: 10_000 });
      await victim.kill();
      await waitFor(async () => {
        const master = await cluster.masterOf(key).catch(() => undefined);
        return Boolean(master && master !== victim && master.alive);
      }, 'the replica promoted', { timeoutMs: 60_000, intervalMs: 100 });

      // The same connections: writes succeed again once the client has the new slot map.
      await waitFor(async () => (await write('ww1-hafter').catch(() => undefined))?.[0] === true, 'a write after the failover', { timeoutMs: 30_000, intervalMs: 200 });
      expect(await write('ww1-hbefore')).toEqual([false]); // its mark survived on the promoted replica
      // A worker whose blocking loop failed during the failover waits BullMQ's runRetryDelay (15 s) before its next try.
      await waitFor(async () => seen.includes('ww1-hafter'), 'the job written after the failover processed by the same worker', { timeoutMs: 100_000 });
      expect(seen.filter((id) => id === 'ww1-hbefore')).toHaveLength(1);
      expect(seen.filter((id) => id === 'ww1-hafter')).toHaveLength(1);
    } finally {
      await worker?.close(true).catch(() => undefined);
      await queues.close();
      producer.disconnect();
      workerConnection.disconnect();
    }
  }, 200_000);
});
