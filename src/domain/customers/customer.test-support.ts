import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startSandbox, type RunningSandbox } from '../../../scripts/wecom-sandbox/index.js';
import { ManualClock } from '../../infra/clock.js';
import { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import { createLogger } from '../../infra/logger.js';
import { Queues } from '../../queues/queue-factory.js';
import { QueueName } from '../../queues/queue-names.js';
import { testRedisUrl, uniqueName } from '../../testing/env.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { createWecomClient } from '../../wecom/client.js';
import type { TaskDeps } from '../tasks/task-deps.js';
import { defaultTaskSettings } from '../tasks/task-settings.js';
import { DEFAULT_TUNING } from '../tuning.js';
import type { CustomerDeps } from './customer-deps.js';
import { PersonalData } from './personal-data.js';

export interface CustomerHarness {
  clock: ManualClock;
  redis: Redis;
  prefix: string;
  queues: Queues;
  pd: PersonalData;
  sandbox: RunningSandbox;
  /** The customer services' dependencies for a corp seeded in the sandbox, through the real client. */
  depsFor(corpId: string): CustomerDeps;
  /** The task services' dependencies for the same corp: default task settings, dealer time. */
  taskDepsFor(corpId: string): TaskDeps;
  close(): Promise<void>;
}

/**
 * The customer services' test bench: a database of its own on the dev MongoDB server, real Redis
 * under a private prefix, and the WeCom sandbox over HTTP on a manual clock.
 */
export async function startCustomerHarness(label: string): Promise<CustomerHarness> {
  const logger = createLogger({ level: 'silent', name: 'test' });
  const clock = new ManualClock(Date.UTC(2026, 4, 1, 2, 0));
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const prefix = uniqueName(label);
  const queues = new Queues(redis, prefix);
  const pd = new PersonalData(
    new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'),
    new LookupHasher(randomBytes(32)),
  );
  const db = await useTestDatabase(label);
  const sandbox = await startSandbox({ port: 0, clock, logger });
  const client = createWecomClient({ apiBase: sandbox.url, redis, logger, clock, keyPrefix: prefix, timeoutMs: 3000 });
  const harness: CustomerHarness = {
    clock,
    redis,
    prefix,
    queues,
    pd,
    sandbox,
    taskDepsFor(corpId) {
      const base = harness.depsFor(corpId);
      return {
        corpId,
        timeZone: 'Asia/Shanghai',
        settings: defaultTaskSettings,
        api: base.api,
        clock,
        queues,
        redis,
        keyPrefix: prefix,
        logger,
        pd,
        publicBaseUrl: 'http://console.test',
        tuning: DEFAULT_TUNING,
      };
    },
    depsFor(corpId) {
      const corp = sandbox.world.corp(corpId);
      if (!corp) throw new Error(`the sandbox has no corp ${corpId}`);
      return {
        corpId,
        api: client.forCorp({ corpId, secret: corp.secret, agentId: corp.agentId }),
        pd,
        clock,
        queues,
        logger,
      };
    },
    async close() {
      await queues.get(QueueName.domainEvents).obliterate({ force: true });
      // Task notifications a test opened tasks with (taskDepsFor).
      await queues.get(QueueName.scheduled).obliterate({ force: true });
      await queues.close();
      redis.disconnect();
      await sandbox.stop();
      await db.drop();
    },
  };
  return harness;
}
