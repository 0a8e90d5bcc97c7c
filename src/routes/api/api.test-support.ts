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
import { testConfig, testRedisUrl, uniqueName } from '../../testing/env.js';
import { createApiRouter } from './api.router.js';

export const BOOTSTRAP = 'b'.repeat(40);
/** One key per test process: corps sealed by one harness open in the next. */
const cipher = new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1');
export const CORP_A = 'wwdealerA0001';
export const CORP_B = 'wwdealerB0002';

/** An admin API over the test database and Redis, with two dealer corps and a token factory. */
export async function startApiHarness(env: Record<string, string> = {}) {
  const config = testConfig({ BOOTSTRAP_API_TOKEN: BOOTSTRAP, QUEUE_PREFIX: uniqueName('api'), PUBLIC_RATE_LIMIT_PER_MINUTE: '100000', AUTH_FAILURES_PER_MINUTE: '100000', ...env });
  const clock = new ManualClock(Date.parse('2026-05-10T02:00:00Z'));
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const queues = new Queues(redis, config.redis.queuePrefix, config.redis.mode);
  const pd = new PersonalData(cipher, new LookupHasher(randomBytes(32)));
  const corpService = new CorpService({ cipher, defaultTimezone: 'Asia/Shanghai', prefix: config.redis.queuePrefix });
  for (const corpId of [CORP_A, CORP_B]) {
    await corpService.upsert({ corpId, displayName: corpId, agentId: 1000002, secret: 's3cret', callbackToken: 'Token1', callbackAesKey: 'a'.repeat(43) });
  }
  const app: Koa = createApp({ config, logger: createLogger({ level: 'silent', name: 'test' }), clock, health: [], mounts: [createApiRouter({ config, clock, queues, pd, redis, corpService }).routes()] });
  const tokens = new TokenService(() => clock.now());
  const token = async (role: Role, corps: string[] = [], userid?: string) => (await tokens.create({ role, corps, userid })).token;
  return {
    app, clock, queues, redis, pd, tokens, token, config, corpService,
    async close() {
      await queues.close();
      redis.disconnect();
    },
  };
}
