import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { testRedisUrl, uniqueName } from '../testing/env.js';
import { ManualClock, SharedOffsetClock, clockOffsetKey, createProcessClock, setSharedClockOffset } from './clock.js';

const redis = new Redis(testRedisUrl());
const prefix = uniqueName('clock');
afterAll(async () => {
  await redis.del(clockOffsetKey(prefix));
  redis.disconnect();
});

describe('clocks', () => {
  it('computes business time in a corp time zone', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 1, 30)); // 09:30 in Shanghai
    expect(clock.at('Asia/Shanghai').format('YYYY-MM-DD HH:mm')).toBe('2026-01-01 09:30');
    clock.advance(14 * 60 * 60 * 1000);
    expect(clock.at('Asia/Shanghai').format('YYYY-MM-DD HH:mm')).toBe('2026-01-01 23:30');
    expect(clock.now().toISOString()).toBe('2026-01-01T15:30:00.000Z');
  });

  it('shares an offset through Redis so every process moves together', async () => {
    const a = new SharedOffsetClock(redis, prefix);
    const b = new SharedOffsetClock(redis, prefix);
    const day = 24 * 60 * 60 * 1000;
    await setSharedClockOffset(redis, prefix, day, false);
    await Promise.all([a.refresh(), b.refresh()]);
    expect(a.offset).toBe(day);
    expect(b.nowMs() - Date.now()).toBeGreaterThanOrEqual(day - 1000);
    expect(b.nowMs() - Date.now()).toBeLessThanOrEqual(day + 1000);
  });

  it('refuses the offset in production, and a production process clock ignores it', async () => {
    await expect(setSharedClockOffset(redis, prefix, 1000, true)).rejects.toThrow(/production refuses/);
    await setSharedClockOffset(redis, prefix, 10 * 24 * 60 * 60 * 1000, false);
    const production = await createProcessClock(redis, prefix, true);
    expect(Math.abs(production.nowMs() - Date.now())).toBeLessThan(1000);
    const development = await createProcessClock(redis, prefix, false);
    expect(development.nowMs() - Date.now()).toBeGreaterThan(9 * 24 * 60 * 60 * 1000);
    development.stop();
  });
});
