import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createApp } from '../../app.js';
import { defaultConsoleRoles, type ConsoleRoles } from '../../domain/auth/console-roles.js';
import { ConsoleSessions } from '../../domain/auth/console-session.js';
import { TokenService } from '../../domain/auth/token.service.js';
import { createPrincipalSource } from '../../domain/auth/principal-source.js';
import { BOOTSTRAP_TOKEN_ID } from '../../middlewares/auth.js';
import type { Corp } from '../../domain/corps/corp.types.js';
import { CorpService } from '../../domain/corps/corp.service.js';
import { PersonalData } from '../../domain/customers/personal-data.js';
import { defaultRetentionSettings } from '../../domain/customers/retention-settings.js';
import { ManualClock } from '../../infra/clock.js';
import { DataCipher, LookupHasher } from '../../infra/data-crypto.js';
import { createLogger } from '../../infra/logger.js';
import { Queues } from '../../queues/queue-factory.js';
import { testConfig, testRedisUrl, uniqueName } from '../../testing/env.js';
import { createApiRouter } from '../api/api.router.js';
import { createConsoleMounts } from './console.router.js';

export const BOOTSTRAP = 'c'.repeat(40);
export const CORP_A = 'wwconsoleA001';
export const CORP_B = 'wwconsoleB002';
export const CORP_OEM = 'wwconsoleOem1';

function corp(corpId: string, kind: Corp['kind'], consoleRoles: ConsoleRoles = defaultConsoleRoles): Corp {
  return {
    corpId,
    kind,
    displayName: corpId,
    agentId: 1000002,
    secret: 's',
    callback: { token: 't', encodingAesKey: 'a'.repeat(43) },
    contactSync: undefined,
    timezone: 'Asia/Shanghai',
    enabled: true,
    retention: defaultRetentionSettings,
    consoleRoles,
  };
}

/**
 * The web app with the admin API (session cookies accepted) and the console mounted. The WeCom
 * code exchange is stubbed: code `ok-<userid>` signs `<userid>` in, anything else is refused.
 */
export async function startConsoleHarness(consoleDir?: string, env: Record<string, string> = {}) {
  // The clock stands still, so every request falls in one rate-limit window: limits high unless a test sets them.
  const config = testConfig({
    BOOTSTRAP_API_TOKEN: BOOTSTRAP,
    QUEUE_PREFIX: uniqueName('console'),
    PUBLIC_RATE_LIMIT_PER_MINUTE: '100000',
    AUTH_FAILURES_PER_MINUTE: '100000',
    ...env,
  });
  const clock = new ManualClock(Date.parse('2026-05-10T02:00:00Z'));
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const queues = new Queues(redis, config.redis.queuePrefix, config.redis.mode, config.inboundPartitions);
  const cipher = new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1');
  const pd = new PersonalData(cipher, new LookupHasher(randomBytes(32)));
  const logger = createLogger({ level: 'silent', name: 'test' });
  const corpService = new CorpService({ cipher, defaultTimezone: 'Asia/Shanghai', prefix: config.redis.queuePrefix });
  const corps = [
    corp(CORP_A, 'dealer', { ...defaultConsoleRoles, dealerAdmins: ['boss'], marketing: ['mkt'] }),
    corp(CORP_B, 'dealer'),
    corp(CORP_OEM, 'oem', { ...defaultConsoleRoles, oem: ['oem.li'], analysts: ['ana.wu'] }),
  ];
  const tokens = new TokenService(() => clock.now());
  const sessions = new ConsoleSessions(redis, config.redis.queuePrefix, {
    nowMs: () => clock.nowMs(),
    revalidate: createPrincipalSource({
      corp: (id) => corps.find((c) => c.corpId === id),
      tokenById: (id) => tokens.resolveById(id),
      bootstrapTokenId: BOOTSTRAP_TOKEN_ID,
      bootstrapConfigured: true,
    }),
  });
  const api = createApiRouter({ config, clock, logger, queues, pd, redis, corpService, sessions });
  const mounts = createConsoleMounts({
    config,
    clock,
    sessions,
    redis,
    consoleDir,
    corps: () => corps,
    corp: (id) => corps.find((c) => c.corpId === id),
    resolveToken: (t) => tokens.resolve(t),
    exchangeCode: async (_corp, code) => (code.startsWith('ok-') ? code.slice(3) : undefined),
  });
  const app = createApp({ config, logger, clock, health: [], mounts: [api.routes(), ...mounts] });
  return {
    app,
    config,
    sessions,
    tokens,
    clock,
    corps,
    async close() {
      await queues.close();
      redis.disconnect();
    },
  };
}
