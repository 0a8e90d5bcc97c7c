import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type Koa from 'koa';
import { createApp } from '../../app.js';
import { TokenService } from '../../domain/auth/token.service.js';
import type { Role } from '../../domain/auth/principal.js';
import { CorpService } from '../../domain/corps/corp.service.js';
import { PersonalData } from '../../domain/customers/personal-data.js';
import { ManualClock } from '../../infra/clock.js';
import { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import { createLogger } from '../../infra/logger.js';
import { Queues } from '../../queues/queue-factory.js';
import { afterAll, beforeAll } from 'vitest';
import { testConfig, testRedisUrl, uniqueName } from '../../testing/env.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { createApiRouter } from './api.router.js';

export const BOOTSTRAP = 'b'.repeat(40);
/** One key per test process: corps sealed by one harness open in the next. */
const cipher = new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1');
export const CORP_A = 'wwdealerA0001';
export const CORP_B = 'wwdealerB0002';

/** An admin API over the test database and Redis, with two dealer corps and a token factory. */
export async function startApiHarness(env: Record<string, string> = {}) {
  const config = testConfig({
    BOOTSTRAP_API_TOKEN: BOOTSTRAP,
    QUEUE_PREFIX: uniqueName('api'),
    PUBLIC_RATE_LIMIT_PER_MINUTE: '100000',
    AUTH_FAILURES_PER_MINUTE: '100000',
    ...env,
  });
  const clock = new ManualClock(Date.parse('2026-05-10T02:00:00Z'));
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const queues = new Queues(redis, config.redis.queuePrefix, config.redis.mode, config.inboundPartitions);
  const pd = new PersonalData(cipher, new LookupHasher(randomBytes(32)));
  const logger = createLogger({ level: 'silent', name: 'test' });
  const corpService = new CorpService({ cipher, defaultTimezone: 'Asia/Shanghai', prefix: config.redis.queuePrefix });
  for (const corpId of [CORP_A, CORP_B]) {
    await corpService.upsert({
      corpId,
      displayName: corpId,
      agentId: 1000002,
      secret: 's3cret',
      callbackToken: 'Token1',
      callbackAesKey: 'a'.repeat(43),
    });
  }
  const app: Koa = createApp({
    config,
    logger,
    clock,
    health: [],
    mounts: [createApiRouter({ config, clock, logger, queues, pd, redis, corpService }).routes()],
  });
  const tokens = new TokenService(() => clock.now());
  const token = async (role: Role, corps: string[] = [], userid?: string) =>
    (await tokens.create({ role, corps, userid })).token;
  return {
    app,
    clock,
    queues,
    redis,
    pd,
    tokens,
    token,
    config,
    corpService,
    async close() {
      await queues.close();
      redis.disconnect();
    },
  };
}

export type ApiHarness = Awaited<ReturnType<typeof startApiHarness>>;
type TestDatabase = Awaited<ReturnType<typeof useTestDatabase>>;

/**
 * The route tests' shared set-up: a test database named `dbName` and an API harness, started in
 * `beforeAll` and closed (database dropped) in `afterAll`. The returned object stands for the
 * harness once `beforeAll` ran; a test file's own `beforeAll` (seeding) runs after this one.
 */
export function useApiHarness(dbName: string, env: Record<string, string> = {}): ApiHarness {
  let running: ApiHarness | undefined;
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await useTestDatabase(dbName);
    running = await startApiHarness(env);
  });
  afterAll(async () => {
    await running?.close();
    await db?.drop();
  });
  return new Proxy({} as ApiHarness, {
    get(_target, key) {
      if (!running) throw new Error('the API harness starts in beforeAll; use it inside tests and hooks');
      return Reflect.get(running, key) as unknown;
    },
  });
}

/** The Authorization header for a bearer token. */
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
