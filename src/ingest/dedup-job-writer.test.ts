import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultJobOptions, QueueName } from '../queues/queue-names.js';
import { startPrivateRedis, type PrivateRedis } from '../testing/redis-server.js';
import { DedupJobWriter } from './dedup-job-writer.js';
import { INBOUND_JOB_NAME } from './inbound.producer.js';

const TTL_MS = 3_600_000;
let redis: PrivateRedis;
let conn: Redis;

beforeAll(async () => {
  redis = await startPrivateRedis();
  conn = new Redis(redis.url);
});
afterAll(async () => {
  conn?.disconnect();
  await redis?.stop();
});

function queueWithPrefix(prefix: string): Queue {
  return new Queue(QueueName.wecomInbound, { connection: conn as never, prefix, defaultJobOptions: defaultJobOptions[QueueName.wecomInbound] });
}

/** Every key of a prefix with its content, job timestamps and stream ids normalised. */
async function snapshot(prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await conn.keys(`${prefix}:*`)).sort()) {
    const name = key.slice(prefix.length);
    const type = await conn.type(key);
    if (type === 'hash') out[name] = normaliseHash(name, await conn.hgetall(key));
    else if (type === 'list') out[name] = await conn.lrange(key, 0, -1);
    else if (type === 'zset') out[name] = await conn.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'stream') out[name] = (await conn.xrange(key, '-', '+')).map(([, fields]) => fields);
    else if (type === 'string') out[name] = { value: await conn.get(key), ttl: (await conn.pttl(key)) > TTL_MS - 60_000 };
  }
  delete out[':wecom-inbound:id']; // BullMQ's auto-id counter: only numbers jobs without a custom id
  return out;
}

/** Job hashes: the timestamp differs by run; opts is compared as JSON (Lua's cjson orders keys its own way). */
function normaliseHash(name: string, hash: Record<string, string>): Record<string, unknown> {
  if (name.endsWith(':meta')) return hash;
  return { ...hash, timestamp: 'T', opts: JSON.parse(hash.opts ?? 'null') as unknown };
}

describe('DedupJobWriter', () => {
  it('writes exactly what BullMQ add() writes, including the duplicate and de-duplicated paths', async () => {
    const viaBull = queueWithPrefix('bull1');
    const viaWriter = queueWithPrefix('wrt1');
    const writer = new DedupJobWriter(viaWriter, INBOUND_JOB_NAME, TTL_MS);
    const data = (n: number) => ({ corpId: 'ww1', receivedAt: 1_700_000_000_000 + n, xml: `<xml><n>${n}</n><q>"\\é</q></xml>` });
    const add = (id: string, n: number) => viaBull.add(INBOUND_JOB_NAME, data(n), { jobId: id, deduplication: { id, ttl: TTL_MS } });

    await add('ww1-m1', 1);
    await add('ww1-hAbC_-', 2);
    await add('ww1-m1', 3); // same id while the job exists: "duplicated"
    await conn.del('bull1:wecom-inbound:ww1-hAbC_-');
    await add('ww1-hAbC_-', 4); // job gone but the mark lives: "deduplicated"

    expect(await writer.addAll([{ id: 'ww1-m1', data: data(1) }, { id: 'ww1-hAbC_-', data: data(2) }, { id: 'ww1-m1', data: data(3) }])).toEqual([true, true, false]);
    await conn.del('wrt1:wecom-inbound:ww1-hAbC_-');
    expect(await writer.addAll([{ id: 'ww1-hAbC_-', data: data(4) }])).toEqual([false]);

    const expected = await snapshot('bull1');
    expect(Object.keys(expected).length).toBeGreaterThan(5);
    expect(await snapshot('wrt1')).toEqual(expected);
    await Promise.all([viaBull.close(), viaWriter.close()]);
  });

  it('writes jobs BullMQ reads back like its own, and skips the marker while the queue is paused', async () => {
    const queue = queueWithPrefix('wrt2');
    const writer = new DedupJobWriter(queue, INBOUND_JOB_NAME, TTL_MS);
    await queue.pause();
    await writer.addAll([{ id: 'ww2-m7', data: { corpId: 'ww2', receivedAt: 7, xml: '<xml/>' } }]);
    expect(await conn.exists('wrt2:wecom-inbound:marker')).toBe(0);
    const job = await queue.getJob('ww2-m7');
    expect(job?.name).toBe(INBOUND_JOB_NAME);
    expect(job?.data).toEqual({ corpId: 'ww2', receivedAt: 7, xml: '<xml/>' });
    expect(job?.opts).toMatchObject({ attempts: 10, jobId: 'ww2-m7', deduplication: { id: 'ww2-m7', ttl: TTL_MS } });
    expect(await queue.getJobState('ww2-m7')).toBe('waiting');
    await queue.close();
  });

  it('refuses default options it cannot write (delayed or prioritised jobs)', () => {
    const queue = new Queue('other', { connection: conn as never, prefix: 'wrt3', defaultJobOptions: { priority: 3 } });
    expect(() => new DedupJobWriter(queue, 'x', TTL_MS)).toThrow(/priority/);
    void queue.close();
  });
});
