import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { demoScenario, startSandbox, type RunningSandbox } from '../../../../scripts/wecom-sandbox/index.js';
import { DEMO_CORP_ID, DEMO_SECRET } from '../../../../scripts/wecom-sandbox/world/demo-seed.js';
import { ManualClock } from '../../../infra/clock.js';
import { DataCipher, LookupHasher } from '../../../infra/data-crypto.js';
import { createLogger } from '../../../infra/logger.js';
import { Queues } from '../../../queues/queue-factory.js';
import { testRedisUrl, uniqueName } from '../../../testing/env.js';
import { useTestDatabase } from '../../../testing/mongo.js';
import { createWecomClient } from '../../../wecom/client.js';
import type { Corp } from '../../corps/corp.types.js';
import { refreshCorpTagCache } from '../../customers/corp-tags.service.js';
import { defaultRetentionSettings } from '../../customers/retention-settings.js';
import { PersonalData } from '../../customers/personal-data.js';
import { defaultTaskSettings } from '../../tasks/task-settings.js';
import type { EngineDeps } from './engine-deps.js';

export { DEMO_CORP_ID };

/** The engine against the WeCom sandbox's demo corp, with a manual business clock. */
export async function startEngineHarness(): Promise<{
  deps: EngineDeps;
  clock: ManualClock;
  sandbox: RunningSandbox;
  corp: Corp;
  redis: Redis;
  close(): Promise<void>;
}> {
  const logger = createLogger({ level: 'silent', name: 'test' });
  const sandbox = await startSandbox({
    seed: demoScenario('http://127.0.0.1:9'),
    logger,
    delivery: { retries: 0, timeoutMs: 500 },
  });
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const prefix = uniqueName('eng');
  const clock = new ManualClock(Date.parse('2026-05-10T02:00:00Z')); // 10:00 in Shanghai
  const api = createWecomClient({
    apiBase: sandbox.url,
    redis,
    logger,
    clock,
    keyPrefix: prefix,
    retry: { maxRetries: 0 },
  }).forCorp({ corpId: DEMO_CORP_ID, secret: DEMO_SECRET, agentId: 1000002 });
  const queues = new Queues(redis, prefix);
  const pd = new PersonalData(
    new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'),
    new LookupHasher(randomBytes(32)),
  );
  const deps: EngineDeps = {
    corpId: DEMO_CORP_ID,
    timeZone: 'Asia/Shanghai',
    quietHours: defaultTaskSettings.quietHours,
    api,
    clock,
    queues,
    logger,
    pd,
    publicBaseUrl: 'http://localhost:3000',
    batchWindowMs: 0,
    pollDelayMs: 0,
  };
  await refreshCorpTagCache(deps);
  const corp: Corp = {
    corpId: DEMO_CORP_ID,
    kind: 'dealer',
    displayName: 'demo',
    agentId: 1000002,
    secret: DEMO_SECRET,
    callback: { token: 't', encodingAesKey: 'k' },
    contactSync: undefined,
    timezone: 'Asia/Shanghai',
    enabled: true,
    retention: defaultRetentionSettings,
  };
  return {
    deps,
    clock,
    sandbox,
    corp,
    redis,
    async close() {
      for (const q of queues.all()) await q.obliterate({ force: true }).catch(() => undefined);
      await queues.close();
      redis.disconnect();
      await sandbox.stop();
    },
  };
}

export type EngineHarness = Awaited<ReturnType<typeof startEngineHarness>>;

/**
 * The set-up of a test file that drives the engine: in `beforeAll` a database of its own and the
 * harness (then `ready` is called with it); in `afterAll` the harness closes and the database goes.
 */
export function useEngineHarness(label: string, ready: (harness: EngineHarness) => void): void {
  let db: Awaited<ReturnType<typeof useTestDatabase>> | undefined;
  let harness: EngineHarness | undefined;
  beforeAll(async () => {
    db = await useTestDatabase(label);
    harness = await startEngineHarness();
    ready(harness);
  });
  afterAll(async () => {
    await harness?.close();
    await db?.drop();
  });
}
