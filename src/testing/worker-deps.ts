import { Redis } from 'ioredis';
import type { AppConfig } from '../../config/index.js';
import { PersonalData } from '../domain/customers/personal-data.js';
import { SystemClock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { createWecomClient, type WecomClient } from '../wecom/client.js';

/**
 * The WeCom client and personal-data sealer a worker context needs, for tests whose processors
 * never call WeCom: the client points at a closed port, so an unexpected call fails loudly.
 */
export function offlineWecom(config: AppConfig, logger: Logger): { wecom: WecomClient; pd: PersonalData } {
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  return {
    wecom: createWecomClient({
      apiBase: 'http://127.0.0.1:9',
      redis,
      logger,
      clock: new SystemClock(),
      keyPrefix: config.redis.queuePrefix,
      timeoutMs: 500,
    }),
    pd: PersonalData.fromConfig(config),
  };
}
