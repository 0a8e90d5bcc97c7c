import type { Server } from 'node:http';
import { createApp } from './app.js';
import { loadConfigOrExit } from './infra/bootstrap.js';
import { createProcessClock } from './infra/clock.js';
import { createLogger } from './infra/logger.js';
import { connectMongoWithRetry, disconnectMongo, pingMongo } from './infra/mongo.js';
import { checkEvictionPolicy, createRedis, pingRedis, redactUrl, waitForRedis } from './infra/redis.js';
import { closeServer } from './infra/http-server.js';
import { Shutdown } from './infra/shutdown.js';
import { Queues } from './queues/queue-factory.js';

/** The web process: callbacks, admin API, console, health and metrics (design §2). */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, 'web');
  const logger = createLogger({ level: config.logLevel, name: 'web' });
  const shutdown = new Shutdown(logger, config.shutdownTimeoutMs);
  shutdown.installSignalHandlers();

  const redis = createRedis({ url: config.redis.url, role: 'producer', logger, connectionName: 'scrm-web' });
  try {
    await waitForRedis(redis, config.redis.url, 5000);
    await checkEvictionPolicy(redis, logger, config.isProduction);
  } catch (err) {
    if (config.isProduction && redis.status === 'ready') throw err; // wrong eviction policy
    // The web starts without Redis and reports not-ready; ioredis keeps reconnecting.
    logger.error({ redis: redactUrl(config.redis.url), err: (err as Error).message }, 'Redis unreachable at start; /readyz reports it until it answers');
  }
  const clock = await createProcessClock(redis, config.redis.queuePrefix, config.isProduction);
  const queues = new Queues(redis, config.redis.queuePrefix);

  // The web never waits for MongoDB: callbacks do not need it (design §3).
  const mongoAbort = new AbortController();
  void connectMongoWithRetry({ uri: config.mongo.uri, serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs, logger }, mongoAbort.signal);

  const app = createApp({
    config,
    logger,
    clock,
    health: [
      { name: 'redis', critical: true, check: () => pingRedis(redis) },
      { name: 'mongodb', critical: false, check: () => pingMongo() },
    ],
  });

  const server: Server = app.listen(config.port, () => logger.info({ port: config.port }, 'web listening'));
  server.keepAliveTimeout = 65_000; // longer than common load-balancer idle timeouts

  shutdown
    .add('http', () => closeServer(server))
    .add('clock', () => clock.stop())
    .add('queues', () => queues.close())
    .add('mongodb', async () => {
      mongoAbort.abort();
      await disconnectMongo();
    })
    .add('redis', async () => {
      await redis.quit().catch(() => redis.disconnect());
    });
}

main().catch((err: unknown) => {
  console.error(`[web] failed to start: ${(err as Error).message}`);
  process.exit(1);
});
