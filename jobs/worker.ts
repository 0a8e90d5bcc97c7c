import Koa from 'koa';
import type { Worker } from 'bullmq';
import { loadConfigOrExit } from '../src/infra/bootstrap.js';
import { createProcessClock } from '../src/infra/clock.js';
import { closeServer } from '../src/infra/http-server.js';
import { createLogger } from '../src/infra/logger.js';
import { connectMongoWithRetry, disconnectMongo, pingMongo } from '../src/infra/mongo.js';
import { checkEvictionPolicy, createRedis, pingRedis, redactUrl, waitForRedis } from '../src/infra/redis.js';
import { Shutdown } from '../src/infra/shutdown.js';
import { createErrorHandler } from '../src/middlewares/errors.js';
import { Queues } from '../src/queues/queue-factory.js';
import { createHealthRouter } from '../src/routes/health.routes.js';
import type { WorkerContext } from './context.js';
import { processorFactories } from './registry.js';
import { startWorkers } from './worker-runner.js';

/** The worker process: BullMQ processors and schedulers (design §2). */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, 'worker');
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  const shutdown = new Shutdown(logger, config.shutdownTimeoutMs);
  shutdown.installSignalHandlers();

  const redis = createRedis({ url: config.redis.url, role: 'producer', logger, connectionName: 'scrm-worker-producer' });
  const workerConnection = createRedis({ url: config.redis.url, role: 'worker', logger, connectionName: 'scrm-worker' });
  try {
    await waitForRedis(redis, config.redis.url, 5000);
    await checkEvictionPolicy(redis, logger, config.isProduction);
  } catch (err) {
    if (config.isProduction && redis.status === 'ready') throw err;
    logger.error({ redis: redactUrl(config.redis.url), err: (err as Error).message }, 'Redis unreachable at start; workers wait for it');
  }
  const clock = await createProcessClock(redis, config.redis.queuePrefix, config.isProduction);
  const queues = new Queues(redis, config.redis.queuePrefix);
  const ctx: WorkerContext = { config, logger, clock, redis, queues };

  let workers: Worker[] = [];
  const health = createHealthRouter([
    { name: 'redis', critical: true, check: () => pingRedis(redis) },
    { name: 'mongodb', critical: true, check: () => pingMongo() },
    { name: 'workers', critical: true, check: async () => ({ ok: workers.every((w) => w.isRunning()), detail: { count: workers.length } }) },
  ]);
  const healthApp = new Koa();
  healthApp.use(createErrorHandler()).use(health.routes()).use(health.allowedMethods());
  const healthServer = config.workerHealthPort > 0
    ? healthApp.listen(config.workerHealthPort, () => logger.info({ port: config.workerHealthPort }, 'worker health listening'))
    : undefined;

  const mongoAbort = new AbortController();
  shutdown
    .add('workers', async () => {
      mongoAbort.abort();
      await Promise.all(workers.map((w) => w.close()));
    })
    .add('health', () => (healthServer ? closeServer(healthServer) : undefined))
    .add('clock', () => clock.stop())
    .add('queues', () => queues.close())
    .add('mongodb', () => disconnectMongo())
    .add('redis', async () => {
      await Promise.all([redis.quit().catch(() => redis.disconnect()), workerConnection.quit().catch(() => workerConnection.disconnect())]);
    });

  // Processors need MongoDB; start them once it answers (retrying with backoff until then).
  const connected = await connectMongoWithRetry({ uri: config.mongo.uri, serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs, logger }, mongoAbort.signal);
  if (!connected) return;
  workers = startWorkers(ctx, workerConnection, processorFactories);
  logger.info({ queues: workers.map((w) => w.name) }, 'worker started');
}

main().catch((err: unknown) => {
  console.error(`[worker] failed to start: ${(err as Error).message}`);
  process.exit(1);
});
