import { afterAll, beforeAll } from 'vitest';
import type { Redis } from 'ioredis';
import type { Queues } from '../queues/queue-factory.js';
import { useTestDatabase } from './mongo.js';
import { startTestQueues } from './queues.js';

/** What `useTestStores` hands a test file once its stores are open. */
export interface TestStores {
  queues: Queues;
  redis: Redis;
}

/**
 * The set-up of a test file that needs both stores: in `beforeAll` a database of its own on the
 * dev MongoDB server and the bot's queues under a prefix of its own on the test Redis (then
 * `ready` is called with them); in `afterAll` the queues are emptied and closed, the database dropped.
 */
export function useTestStores(label: string, ready: (stores: TestStores) => void): void {
  let db: Awaited<ReturnType<typeof useTestDatabase>> | undefined;
  let bus: ReturnType<typeof startTestQueues> | undefined;
  beforeAll(async () => {
    db = await useTestDatabase(label);
    bus = startTestQueues(label);
    ready({ queues: bus.queues, redis: bus.redis });
  });
  afterAll(async () => {
    await bus?.close();
    await db?.drop();
  });
}
