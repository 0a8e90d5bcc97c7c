import type { Redis } from 'ioredis';
import type { AppConfig } from '../../config/index.js';
import { PersonalData } from '../../src/domain/customers/personal-data.js';
import { loadConfigOrExit } from '../../src/infra/bootstrap.js';
import { createLogger, type Logger } from '../../src/infra/logger.js';
import { connectMongo, disconnectMongo } from '../../src/infra/mongo.js';
import { createRedis, redisSecurity, waitForRedis } from '../../src/infra/redis.js';
import { Queues } from '../../src/queues/queue-factory.js';

export interface CliContext {
  config: AppConfig;
  logger: Logger;
  redis: Redis;
  queues: Queues;
  pd: PersonalData;
  close(): Promise<void>;
}

/**
 * What an operator CLI needs, from the same configuration as the bot, read the same way
 * (loadConfigOrExit: the environment, `.env`, and in development the running dev stack's settings).
 * Logs go to stderr so stdout stays for the CLI's own output.
 */
export async function openCliContext(name: string, env: NodeJS.ProcessEnv = process.env): Promise<CliContext> {
  const config = loadConfigOrExit(env, name);
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    name,
    destination: process.stderr,
  });
  const redis = createRedis({
    url: config.redis.url,
    ...redisSecurity(config),
    role: 'producer',
    logger,
    connectionName: `scrm-cli-${name}`,
  });
  await waitForRedis(redis, config.redis.url, 5000);
  await connectMongo({
    uri: config.mongo.uri,
    serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs,
    logger,
  });
  const queues = new Queues(redis, config.redis.queuePrefix, config.redis.mode, config.inboundPartitions);
  return {
    config,
    logger,
    redis,
    queues,
    pd: PersonalData.fromConfig(config),
    async close() {
      await queues.close();
      await disconnectMongo();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Prints `message` to stderr and exits with `code` (usage 2, input 65, unavailable 69). */
export function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}
