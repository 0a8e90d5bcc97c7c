/**
 * The bot's Redis roles on a real Redis Cluster (three masters, three replicas; the cluster test
 * project's global set-up starts it): every connection role connects, each queue sits in a hash
 * slot of its own with its de-duplication marks, the callback script writes an add event's
 * inbound and welcome jobs, and the locks and rate limits run their scripts, a WeCom call's lock,
 * semaphore slot and window take in one (the token cache: token-cache.test.ts, which the cluster
 * project runs too) (docs/scale.md, "Hash slots").
 */
import calculateSlot from 'cluster-key-slot';
import { Worker, type ConnectionOptions } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { DedupJobWriter, writeDedupJobs } from '../ingest/dedup-job-writer.js';
import { Queues } from '../queues/queue-factory.js';
import { QueueName, queueKeyName } from '../queues/queue-names.js';
import { testConfig, testRedisMode, testRedisUrl, uniqueName } from '../testing/env.js';
import { waitFor } from '../testing/wait.js';
import { WecomThrottle } from '../wecom/rate-limit.js';
import { createLogger } from './logger.js';
import { createRedis, pingRedis, type RedisRole } from './redis.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const config = testConfig();
const open: Array<{ disconnect(): void }> = [];
const connect = (role: RedisRole) => {
  const redis = createRedis({
    url: config.redis.url,
    mode: config.redis.mode,
    role,
    logger,
    connectionName: uniqueName(role),
  });
  open.push(redis);
  return redis;
};
afterAll(() => {
  for (const redis of open) redis.disconnect();
});

describe('Redis Cluster connections', () => {
  it('runs on a cluster: REDIS_URL lists the seed nodes and REDIS_MODE is cluster', () => {
    expect(testRedisMode()).toBe('cluster');
    expect(testRedisUrl().split(',').length).toBe(6);
    expect(config.redis.mode).toBe('cluster');
  });

  it('opens every role as a cluster connection that answers', async () => {
    for (const role of ['producer', 'worker', 'subscriber'] as const) {
      const redis = connect(role);
      await waitFor(() => pingRedis(redis), `${role} connection`, { timeoutMs: 10_000 });
      expect((redis as unknown as { isCluster?: boolean }).isCluster).toBe(true);
    }
  });

  it('delivers pub/sub across nodes (the corp cache change notice)', async () => {
    const subscriber = connect('subscriber');
    const publisher = connect('producer');
    await waitFor(() => pingRedis(publisher), 'publisher', { timeoutMs: 10_000 });
    const channel = `${uniqueName('p')}:corps:changed`;
    const got: string[] = [];
    subscriber.on('message', (ch: string, message: string) => ch === channel && got.push(message));
    await subscriber.subscribe(channel);
    await waitFor(
      async () => {
        await publisher.publish(channel, 'wwcorp1');
        return got.length > 0;
      },
      'the published message',
      { timeoutMs: 10_000 },
    );
    expect(got[0]).toBe('wwcorp1');
  });
});

describe('hash slots', () => {
  it('puts each queue in a slot of its own, with its de-duplication marks', () => {
    const prefix = config.redis.queuePrefix;
    const slots = Object.values(QueueName).map((name) => {
      const base = `${prefix}:${queueKeyName(name, 'cluster')}`;
      const slot = calculateSlot(`${base}:wait`);
      for (const type of ['meta', 'active', 'events', 'marker', 'delayed', 'de:ww1-habc', 'job-1'])
        expect(calculateSlot(`${base}:${type}`)).toBe(slot);
      return slot;
    });
    expect(new Set(slots).size).toBe(slots.length);
  });

  it('writes an add event inbound and welcome jobs with the callback script, once each, and workers take them', async () => {
    const redis = connect('producer');
    await waitFor(() => pingRedis(redis), 'producer', { timeoutMs: 10_000 });
    const queues = new Queues(redis, uniqueName('q'), 'cluster');
    const inbound = new DedupJobWriter(queues.get(QueueName.wecomInbound), 'callback', 60_000);
    const welcome = new DedupJobWriter(queues.get(QueueName.wecomWelcome), 'welcome');
    const write = () =>
      writeDedupJobs([
        { writer: inbound, jobs: [{ id: 'ww1-h1', data: { n: 1 } }] },
        { writer: welcome, jobs: [{ id: 'ww1-w1', data: { n: 2 } }] },
      ]);
    expect(await write()).toEqual([true, true]);
    expect(await write()).toEqual([false, false]);

    const workerConnection = connect('worker');
    const seen: string[] = [];
    const workers = [QueueName.wecomInbound, QueueName.wecomWelcome].map(
      (name) =>
        new Worker(
          queueKeyName(name, 'cluster'),
          async (job) => {
            seen.push(`${name}/${job.id}`);
          },
          { connection: workerConnection as unknown as ConnectionOptions, prefix: queues.prefix },
        ),
    );
    try {
      await waitFor(async () => seen.length === 2, 'both jobs processed', { timeoutMs: 15_000 });
      expect(seen.sort()).toEqual(['wecom-inbound/ww1-h1', 'wecom-welcome/ww1-w1']);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      for (const q of queues.all()) await q.obliterate({ force: true }).catch(() => undefined);
      await queues.close();
    }
  });

  it('runs the rate-limit, semaphore and lock scripts of the WeCom client', async () => {
    const redis = connect('producer');
    await waitFor(() => pingRedis(redis), 'producer', { timeoutMs: 10_000 });
    const throttle = new WecomThrottle({
      redis,
      keyPrefix: uniqueName('t'),
      defaultLimit: 2,
      windowMs: 60_000,
      maxWaitMs: 50,
    });
    await throttle.acquire('ww1', 'externalcontact/get');
    await throttle.acquire('ww1', 'externalcontact/get');
    await expect(throttle.acquire('ww1', 'externalcontact/get')).rejects.toThrow(/still closed/);
    await throttle.block('ww2', 'message/send', 60_000);
    await expect(throttle.acquire('ww2', 'message/send')).rejects.toThrow(/still closed/);
    const release = await throttle.semaphore('ww1', 'send', 1);
    await expect(throttle.semaphore('ww1', 'send', 1)).rejects.toThrow(/still closed/);
    await release();
    const unlock = await throttle.lock('ww1', 'pair-1');
    await expect(throttle.lock('ww1', 'pair-1')).rejects.toThrow(/still closed/);
    await unlock();
    await (
      await throttle.lock('ww1', 'pair-1')
    )();
  });

  it("takes a call's lock, semaphore slot and window take in one script: all its keys in the slot of {corp:endpoint}", async () => {
    const redis = connect('producer');
    await waitFor(() => pingRedis(redis), 'producer', { timeoutMs: 10_000 });
    const keyPrefix = uniqueName('t');
    const throttle = new WecomThrottle({ redis, keyPrefix, defaultLimit: 10, windowMs: 60_000, maxWaitMs: 50 });
    const endpoint = 'externalcontact/mark_tag';
    const parts = { lock: 'tagpair:u1:wm1', concurrency: { name: 'mark_tag', limit: 1 } };
    const slot = calculateSlot(`${keyPrefix}:wecom:rl:{ww1:${endpoint}}`);
    for (const key of [
      `rl-block:{ww1:${endpoint}}`,
      `lock:{ww1:${endpoint}}:tagpair:u1:wm1`,
      `sem:{ww1:${endpoint}}:mark_tag`,
    ])
      expect(calculateSlot(`${keyPrefix}:wecom:${key}`)).toBe(slot);
    const release = await throttle.acquireCall('ww1', endpoint, parts);
    expect(await redis.exists(`${keyPrefix}:wecom:lock:{ww1:${endpoint}}:tagpair:u1:wm1`)).toBe(1);
    await expect(throttle.acquireCall('ww1', endpoint, parts)).rejects.toThrow(/"lock:tagpair:u1:wm1" still closed/);
    await expect(throttle.acquireCall('ww1', endpoint, { ...parts, lock: 'tagpair:u1:wm2' })).rejects.toThrow(
      /"concurrency:mark_tag" still closed/,
    );
    await release();
    expect(await redis.exists(`${keyPrefix}:wecom:lock:{ww1:${endpoint}}:tagpair:u1:wm1`)).toBe(0);
    await (
      await throttle.acquireCall('ww1', endpoint, { ...parts, lock: 'tagpair:u1:wm2' })
    )();
    expect(await redis.zcard(`${keyPrefix}:wecom:sem:{ww1:${endpoint}}:mark_tag`)).toBe(0);
  });
});
