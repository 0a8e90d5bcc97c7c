import type { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { Registry } from 'prom-client';
import type { AppConfig } from '../config/index.js';
import { CorpCache } from './domain/corps/corp-cache.js';
import { CorpService } from './domain/corps/corp.service.js';
import { loadConfigOrExit } from './infra/bootstrap.js';
import { changeNotices } from './infra/change-notices.js';
import { createProcessClock, type Clock } from './infra/clock.js';
import { DataCipher } from './infra/data-crypto.js';
import { createLogger, type Logger } from './infra/logger.js';
import { Metrics } from './infra/metrics.js';
import { createRedis, prepareRedisAtBoot, redisSecurity } from './infra/redis.js';
import { Shutdown } from './infra/shutdown.js';
import { Queues } from './queues/queue-factory.js';

/** What both process roles start with (docs/architecture.md §2), before their own parts. */
export interface ProcessBase {
  config: AppConfig;
  logger: Logger;
  shutdown: Shutdown;
  /** Producer connection (fails fast) and a pub/sub subscriber. */
  redis: Redis;
  subscriber: Redis;
  clock: Clock & { stop(): void };
  queues: Queues;
  allQueues: () => ReturnType<Queues['get']>[];
  cipher: DataCipher;
  metrics: Metrics;
  corpService: CorpService;
  /** Not started: the web starts it at once, the worker once MongoDB answers. */
  corps: CorpCache;
}

/**
 * The common start of the web and the worker: config (exit on invalid), logger, signal
 * handling, Redis (prepared, not required), the process clock, queues, metrics and the corp
 * cache. `whileRedisAway` says in the log what the role does while Redis is unreachable.
 */
export async function bootProcess(role: 'web' | 'worker', whileRedisAway: string): Promise<ProcessBase> {
  const config = loadConfigOrExit(process.env, role);
  const logger = createLogger({ level: config.logLevel, name: role });
  const shutdown = new Shutdown(logger, config.shutdownTimeoutMs);
  shutdown.installSignalHandlers();
  const redis = createRedis({
    url: config.redis.url,
    ...redisSecurity(config),
    role: 'producer',
    logger,
    connectionName: `scrm-${role}`,
  });
  const subscriber = createRedis({
    url: config.redis.url,
    ...redisSecurity(config),
    role: 'subscriber',
    logger,
    connectionName: `scrm-${role}-sub`,
  });
  await prepareRedisAtBoot(redis, config.redis.url, logger, config.isProduction, whileRedisAway);
  const clock = await createProcessClock(redis, config.redis.queuePrefix, config.isProduction);
  const queues = new Queues(redis, config.redis.queuePrefix, config.redis.mode, config.inboundPartitions);
  // Handles are created and checked now, not on first use (docs/reliability.md, "Queue handles that heal").
  const unusable = await queues.prepare(queues.handleNames(), redis.status === 'ready' ? 3000 : 0);
  if (unusable.length > 0)
    logger.error(
      { queues: unusable },
      'queue handles not usable at start; they are replaced until they work and /readyz reports them',
    );
  // Every queue in Redis, the inbound partitions included (metrics, the queue-age alert, the dashboard).
  const allQueues = () => queues.handleNames().map((name) => queues.get(name));
  const cipher = new DataCipher(config.dataKeys.keys, config.dataKeys.activeId);
  const metrics = new Metrics(new Registry(), { defaultMetrics: true, queues: allQueues, nowMs: () => clock.nowMs() });
  const corpService = new CorpService({
    cipher,
    defaultTimezone: config.defaultTimezone,
    redis,
    prefix: config.redis.queuePrefix,
  });
  // Corps: memory + encrypted Redis snapshot; MongoDB when it answers (never on the callback path).
  const corps = new CorpCache({
    source: corpService,
    sourceReady: () => mongoose.connection.readyState === 1,
    redis,
    subscriber,
    cipher,
    prefix: config.redis.queuePrefix,
    refreshMs: config.corps.refreshS * 1000,
    logger,
  });
  // Writes of rules, tags and lead settings here reach the other processes' caches, and theirs reach ours
  // (src/infra/change-notices.ts); not awaited: the subscription waits for Redis like the corp cache's.
  void changeNotices.attach({ redis, subscriber, prefix: config.redis.queuePrefix, logger });
  return { config, logger, shutdown, redis, subscriber, clock, queues, allQueues, cipher, metrics, corpService, corps };
}
