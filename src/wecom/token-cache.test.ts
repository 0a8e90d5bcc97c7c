import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../infra/clock.js';
import { createLogger } from '../infra/logger.js';
import { testRedis, uniqueName } from '../testing/env.js';
import { TokenCache, tokenKey } from './token-cache.js';

const redis = testRedis({ maxRetriesPerRequest: null });
const keyPrefix = uniqueName('tok');
const clock = new ManualClock(Date.parse('2026-05-10T02:00:00Z'));
let fetched = 0;
const cache = new TokenCache({
  redis,
  keyPrefix,
  clock,
  logger: createLogger({ level: 'silent', name: 'test' }),
  fetchToken: async (creds) => {
    fetched += 1;
    return { accessToken: `ACCESS-${creds.corpId}-${fetched}`, expiresIn: 7200 };
  },
});
const a = { corpId: 'wwtokenA0001', secret: 'secret-of-a' };
const b = { corpId: 'wwtokenB0002', secret: 'secret-of-b' };

afterAll(async () => {
  for (const key of await redis.keys(`${keyPrefix}*`)) await redis.del(key);
  redis.disconnect();
});

describe('WeCom token cache', () => {
  it('keeps access tokens sealed in Redis and opens them for the same app only', async () => {
    const token = await cache.get(a);
    expect(token).toBe('ACCESS-wwtokenA0001-1');
    const raw = (await redis.get(tokenKey(keyPrefix, a))) ?? '';
    expect(raw).not.toContain('ACCESS');
    expect(await cache.get(a)).toBe(token);
    expect(fetched).toBe(1);
    // A sealed value copied under another app's key does not open there: that app fetches its own.
    await redis.set(tokenKey(keyPrefix, b), raw, 'PX', 60_000);
    expect(await cache.get(b)).toBe('ACCESS-wwtokenB0002-2');
  });

  it('treats a token cached in clear by an older version as a miss', async () => {
    const legacy = { corpId: 'wwtokenC0003', secret: 'secret-of-c' };
    await redis.set(
      tokenKey(keyPrefix, legacy),
      JSON.stringify({ t: 'CLEAR', exp: clock.nowMs() + 3_600_000, r: clock.nowMs() + 3_000_000 }),
      'PX',
      60_000,
    );
    expect(await cache.get(legacy)).toMatch(/^ACCESS-wwtokenC0003-/);
  });
});
