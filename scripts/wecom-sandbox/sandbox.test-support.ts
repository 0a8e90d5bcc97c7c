import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { inject } from 'vitest';
import { createLogger, type Logger } from '../../src/infra/logger.js';

/** Test helpers for the WeCom client and sandbox tests (not shipped). */

/** The harness's Redis when the repo's globalSetup ran, else REDIS_URL or the local default. */
export function wecomTestRedisUrl(): string {
  let provided: string | undefined;
  try {
    provided = (inject as (key: string) => unknown)('redisUrl') as string | undefined;
  } catch {
    provided = undefined;
  }
  return provided ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export function randomPrefix(label: string): string {
  return `test-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix:` (SCAN, never KEYS). */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

export const silentLogger = (): Logger => createLogger({ level: 'silent', name: 'test' });

/** Polls `check` until it returns a value or the deadline passes. */
export async function pollUntil<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
