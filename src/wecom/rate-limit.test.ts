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
