import { Redis } from 'ioredis';
import { Queues } from '../queues/queue-factory.js';
import { testRedisUrl, uniqueName } from './env.js';

/**
 * A producer connection and the bot's queues under a key prefix of their own on the test Redis;
 * `close()` empties the queues and disconnects.
 */
export function startTestQueues(label: string): { redis: Redis; queues: Queues; close(): Promise<void> } {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const queues = new Queues(redis, uniqueName(label));
  return {
    redis,
    queues,
    async close() {
      for (const q of queues.all()) await q.obliterate({ force: true }).catch(() => undefined);
      await queues.close();
      redis.disconnect();
    },
  };
}
