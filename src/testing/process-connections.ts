import type { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { testRedis } from './env.js';

/**
 * Redis connections standing for the processes of a cross-process test (change notices, caches):
 * `redisPair()` gives one process's publisher and subscriber; `onClose` keeps a detach. Both are
 * undone after the file, the detaches first.
 */
export function useProcessConnections(): {
  redisPair(): { redis: Redis; subscriber: Redis };
  onClose(detach: () => void): void;
} {
  const connections: Redis[] = [];
  const detaches: Array<() => void> = [];
  afterAll(() => {
    for (const d of detaches) d();
    for (const c of connections) c.disconnect();
  });
  return {
    redisPair() {
      const redis = testRedis();
      const subscriber = testRedis();
      connections.push(redis, subscriber);
      return { redis, subscriber };
    },
    onClose(detach) {
      detaches.push(detach);
    },
  };
}
