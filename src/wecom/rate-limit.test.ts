import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { deleteByPrefix, randomPrefix, wecomTestRedisUrl } from '../../scripts/wecom-sandbox/sandbox.test-support.js';
import { LocalThrottleError, WecomThrottle } from './rate-limit.js';

let redis: Redis;
const prefix = randomPrefix('rate-limit');
beforeAll(() => {
  redis = new Redis(wecomTestRedisUrl());
});
afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  await redis.quit();
});

const throttle = (limit: number, keyPrefix = `${prefix}:${Math.random().toString(36).slice(2, 8)}`) =>
  new WecomThrottle({ redis, keyPrefix, defaultLimit: limit, windowMs: 60_000, maxWaitMs: 100 });
const settle = (ps: Array<Promise<void>>) => Promise.allSettled(ps).then((r) => r.map((x) => x.status));

describe('WecomThrottle.acquire', () => {
  it('the calls asking in one turn share one script run and are granted as that many single takes: the limit holds', async () => {
    const t = throttle(3);
    const evals = vi.spyOn(redis, 'eval');
    const results = await settle(
      Array.from({ length: 5 }, () => t.acquire('wwrl1', 'externalcontact/send_welcome_msg')),
    );
    expect(evals).toHaveBeenCalledTimes(1);
    expect(results.filter((s) => s === 'fulfilled')).toHaveLength(3);
    // The two over the limit wait for the window (60 s, past maxWaitMs) and give up.
    const rejected = await Promise.allSettled(
      Array.from({ length: 2 }, () => t.acquire('wwrl1', 'externalcontact/send_welcome_msg')),
    );
    for (const r of rejected) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LocalThrottleError);
    }
    // Another endpoint of the same corp has its own window.
    await expect(t.acquire('wwrl1', 'externalcontact/get')).resolves.toBeUndefined();
  });

  it('counts every call in the window as single takes did, so calls one by one and together share the limit', async () => {
    const t = throttle(4);
    await t.acquire('wwrl2', 'message/send');
    await t.acquire('wwrl2', 'message/send');
    const together = await settle(Array.from({ length: 3 }, () => t.acquire('wwrl2', 'message/send')));
    expect(together.filter((s) => s === 'fulfilled')).toHaveLength(2);
    await expect(t.acquire('wwrl2', 'message/send')).rejects.toBeInstanceOf(LocalThrottleError);
  });

  it('a 45009 block stops every waiting call of the turn', async () => {
    const t = throttle(100);
    await t.block('wwrl3', 'message/send', 60_000);
    const results = await settle(Array.from({ length: 3 }, () => t.acquire('wwrl3', 'message/send')));
    expect(results).toEqual(['rejected', 'rejected', 'rejected']);
  });
});

describe('WecomThrottle.acquireCall (lock, semaphore slot and window take in one script)', () => {
  const endpoint = 'externalcontact/mark_tag';
  const setup = (limit: number, opts: { windowMs?: number; maxWaitMs?: number } = {}) => {
    const keyPrefix = `${prefix}:${Math.random().toString(36).slice(2, 8)}`;
    const t = new WecomThrottle({
      redis,
      keyPrefix,
      defaultLimit: limit,
      windowMs: opts.windowMs ?? 60_000,
      maxWaitMs: opts.maxWaitMs ?? 100,
    });
    const tag = (corpId: string) => `{${corpId}:${endpoint}}`;
    const keys = (corpId: string) => ({
      window: `${keyPrefix}:wecom:rl:${tag(corpId)}`,
      lock: (pair: string) => `${keyPrefix}:wecom:lock:${tag(corpId)}:${pair}`,
      sem: `${keyPrefix}:wecom:sem:${tag(corpId)}:mark_tag`,
    });
    // Another process on the same keys that gives up quickly.
    const impatient = new WecomThrottle({
      redis,
      keyPrefix,
      defaultLimit: limit,
      windowMs: opts.windowMs ?? 60_000,
      maxWaitMs: 50,
    });
    return { t, keys, impatient };
  };
  const cap = (limit: number) => ({ name: 'mark_tag', limit });
  const count = async (key: string) => Number((await redis.get(key)) ?? 0);

  it('takes lock, slot and window in one round trip and frees lock and slot in one more', async () => {
    const { t, keys } = setup(10);
    const k = keys('wwac1');
    const evals = vi.spyOn(redis, 'eval');
    const release = await t.acquireCall('wwac1', endpoint, { lock: 'pair-1', concurrency: cap(4) });
    expect(evals).toHaveBeenCalledTimes(1);
    expect(await redis.exists(k.lock('pair-1'))).toBe(1);
    expect(await redis.zcard(k.sem)).toBe(1);
    expect(await count(k.window)).toBe(1);
    await release();
    expect(evals).toHaveBeenCalledTimes(2);
    expect(await redis.exists(k.lock('pair-1'))).toBe(0);
    expect(await redis.zcard(k.sem)).toBe(0);
  });

  it('a lock held by another call makes it wait, and taking nothing it gives up with the lock error', async () => {
    const { t, keys } = setup(10);
    const k = keys('wwac2');
    const release = await t.acquireCall('wwac2', endpoint, { lock: 'pair-1', concurrency: cap(4) });
    const err = await t.acquireCall('wwac2', endpoint, { lock: 'pair-1', concurrency: cap(4) }).catch((e) => e);
    expect(err).toBeInstanceOf(LocalThrottleError);
    expect(err.what).toBe('lock:pair-1');
    // Nothing was taken by the waiting call: one holder, one take in the window.
    expect(await redis.zcard(k.sem)).toBe(1);
    expect(await count(k.window)).toBe(1);
    await release();
    // Freed, the lock goes to the next call.
    await (
      await t.acquireCall('wwac2', endpoint, { lock: 'pair-1', concurrency: cap(4) })
    )();
  });

  it('a full semaphore makes it wait without leaving its lock held, and it gives up with the concurrency error', async () => {
    const { t, keys } = setup(10);
    const k = keys('wwac3');
    const release = await t.acquireCall('wwac3', endpoint, { lock: 'pair-1', concurrency: cap(1) });
    const err = await t.acquireCall('wwac3', endpoint, { lock: 'pair-2', concurrency: cap(1) }).catch((e) => e);
    expect(err).toBeInstanceOf(LocalThrottleError);
    expect(err.what).toBe('concurrency:mark_tag');
    expect(await redis.exists(k.lock('pair-2'))).toBe(0);
    expect(await redis.zcard(k.sem)).toBe(1);
    expect(await count(k.window)).toBe(1);
    await release();
    await (
      await t.acquireCall('wwac3', endpoint, { lock: 'pair-2', concurrency: cap(1) })
    )();
  });

  it('a full window keeps lock and slot held while the call waits, then grants it', async () => {
    const { t, keys, impatient } = setup(1, { windowMs: 1500, maxWaitMs: 5000 });
    const k = keys('wwac4');
    await (
      await t.acquireCall('wwac4', endpoint, { lock: 'pair-1', concurrency: cap(2) })
    )();
    let granted = false;
    const second = t.acquireCall('wwac4', endpoint, { lock: 'pair-2', concurrency: cap(2) }).then((r) => {
      granted = true;
      return r;
    });
    // The window is full: the call holds its lock and slot while it waits.
    await vi.waitFor(async () => expect(await redis.exists(k.lock('pair-2'))).toBe(1), { timeout: 2000 });
    expect(granted).toBe(false);
    expect(await redis.zcard(k.sem)).toBe(1);
    await expect(
      impatient.acquireCall('wwac4', endpoint, { lock: 'pair-2', concurrency: cap(2) }),
    ).rejects.toMatchObject({
      what: 'lock:pair-2',
    });
    const release = await second;
    expect(await redis.exists(k.lock('pair-2'))).toBe(1);
    await release();
    expect(await redis.exists(k.lock('pair-2'))).toBe(0);
    expect(await redis.zcard(k.sem)).toBe(0);
  });

  it('a window or 45009 block that does not open in time gives up with the rate error and frees lock and slot', async () => {
    const { t, keys } = setup(100);
    const k = keys('wwac5');
    await t.block('wwac5', endpoint, 60_000);
    const err = await t.acquireCall('wwac5', endpoint, { lock: 'pair-1', concurrency: cap(1) }).catch((e) => e);
    expect(err).toBeInstanceOf(LocalThrottleError);
    expect(err.what).toBe(`rate:${endpoint}`);
    expect(await redis.exists(k.lock('pair-1'))).toBe(0);
    expect(await redis.zcard(k.sem)).toBe(0);
  });

  it("a crashed holder's lock and slot expire with their lease", async () => {
    const { t, keys } = setup(10, { maxWaitMs: 5000 });
    const k = keys('wwac6');
    // Taken and never released: the holder crashed.
    await t.acquireCall('wwac6', endpoint, { lock: 'pair-1', concurrency: cap(1), leaseMs: 200 });
    const release = await t.acquireCall('wwac6', endpoint, { lock: 'pair-1', concurrency: cap(1) });
    expect(await redis.zcard(k.sem)).toBe(1);
    await release();
    expect(await redis.zcard(k.sem)).toBe(0);
    expect(await redis.exists(k.lock('pair-1'))).toBe(0);
  });

  it('a release after the lease expired leaves the next holder’s lock alone', async () => {
    const { t, keys } = setup(10, { maxWaitMs: 5000 });
    const k = keys('wwac7');
    const late = await t.acquireCall('wwac7', endpoint, { lock: 'pair-1', concurrency: cap(2), leaseMs: 100 });
    const next = await t.acquireCall('wwac7', endpoint, { lock: 'pair-1', concurrency: cap(2) });
    await late();
    expect(await redis.exists(k.lock('pair-1'))).toBe(1);
    expect(await redis.zcard(k.sem)).toBe(1);
    await next();
    expect(await redis.exists(k.lock('pair-1'))).toBe(0);
  });

  it('without a lock or a cap it is a plain batched take', async () => {
    const { t, keys } = setup(2);
    const evals = vi.spyOn(redis, 'eval');
    const releases = await Promise.all(
      Array.from({ length: 2 }, () => t.acquireCall('wwac8', 'externalcontact/get', {})),
    );
    expect(evals).toHaveBeenCalledTimes(1);
    for (const r of releases) await r();
    expect(evals).toHaveBeenCalledTimes(1);
    expect(await count(keys('wwac8').window.replace(endpoint, 'externalcontact/get'))).toBe(2);
  });
});
