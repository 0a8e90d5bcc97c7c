import Koa from 'koa';
import mongoose from 'mongoose';
import { Registry } from 'prom-client';
import { CorpCache } from '../src/domain/corps/corp-cache.js';
import { CorpService } from '../src/domain/corps/corp.service.js';
import { PersonalData } from '../src/domain/customers/personal-data.js';
import { Alerter } from '../src/infra/alerts.js';
import { loadConfigOrExit } from '../src/infra/bootstrap.js';
import { createProcessClock } from '../src/infra/clock.js';
import { DataCipher } from '../src/infra/data-crypto.js';
import { closeServer } from '../src/infra/http-server.js';
import { createLogger } from '../src/infra/logger.js';
import { Metrics } from '../src/infra/metrics.js';
import { connectMongoWithRetry, disconnectMongo, pingMongo } from '../src/infra/mongo.js';
import { createRedis, pingRedis, prepareRedisAtBoot } from '../src/infra/redis.js';
import { Shutdown } from '../src/infra/shutdown.js';
import { createErrorHandler } from '../src/middlewares/errors.js';
import { Queues } from '../src/queues/queue-factory.js';
import { QueueName } from '../src/queues/queue-names.js';
import { createHealthRouter } from '../src/routes/health.routes.js';
import { createMetricsRouter } from '../src/routes/ops.routes.js';
import { createWecomClient } from '../src/wecom/client.js';
import type { WorkerContext } from './context.js';
import { ensureCorpSchedulers, ensureCorpSchedulersScheduler } from './processors/customer-maintenance.tasks.js';
import { createProcessorFactories } from './registry.js';
import { startWorkers, type RunningWorkers } from './worker-runner.js';

/** The worker process: BullMQ processors and schedulers (design §2). */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, 'worker');
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  const shutdown = new Shutdown(logger, config.shutdownTimeoutMs);
  shutdown.installSignalHandlers();

  const redis = createRedis({ url: config.redis.url, role: 'producer', logger, connectionName: 'scrm-worker-producer' });
  const workerConnection = createRedis({ url: config.redis.url, role: 'worker', logger, connectionName: 'scrm-worker' });
  const subscriber = createRedis({ url: config.redis.url, role: 'subscriber', logger, connectionName: 'scrm-worker-sub' });
  await prepareRedisAtBoot(redis, config.redis.url, logger, config.isProduction, 'workers wait for it');
  const clock = await createProcessClock(redis, config.redis.queuePrefix, config.isProduction);
  const queues = new Queues(redis, config.redis.queuePrefix);
  const cipher = new DataCipher(config.dataKeys.keys, config.dataKeys.activeId);
  const metrics = new Metrics(new Registry(), { defaultMetrics: true, queues: () => Object.values(QueueName).map((n) => queues.get(n)), nowMs: () => clock.nowMs() });
  const alerts = new Alerter({ logger, metrics, minIntervalMs: config.alerts.minIntervalS * 1000 });
  const corps = new CorpCache({
    source: new CorpService({ cipher, defaultTimezone: config.defaultTimezone, redis, prefix: config.redis.queuePrefix }),
    sourceReady: () => mongoose.connection.readyState === 1,
    redis,
    subscriber,
    cipher,
    prefix: config.redis.queuePrefix,
    refreshMs: config.corps.refreshS * 1000,
    logger,
  });
  // The one WeCom client of this process (design §4): tokens, rate limits and retries shared in Redis.
  const wecom = createWecomClient({ apiBase: config.wecom.apiBase, redis, logger, clock, timeoutMs: config.wecom.timeoutMs, keyPrefix: config.redis.queuePrefix });
  const ctx: WorkerContext = { config, logger, clock, redis, queues, corps, metrics, wecom, pd: PersonalData.fromConfig(config) };

  // Operator alerts as WeCom app messages.
  const sendAlert = async (corpId: string, userIds: string[], text: string) => {
    const corp = corps.get(corpId);
    if (!corp) throw new Error(`ALERT_WECOM_CORP_ID ${corpId} is not a configured corp`);
    await wecom.forCorp({ corpId, secret: corp.secret, agentId: corp.agentId }).sendMessage({ touser: userIds.join('|'), agentid: corp.agentId, msgtype: 'text', text: { content: text } });
  };
  const listCorpIds = () => corps.all().map((c) => c.corpId);
  const factories = createProcessorFactories({ sendAlert, listCorpIds });

  const running: { workers?: RunningWorkers } = {};
  const health = createHealthRouter([
    { name: 'redis', critical: true, check: () => pingRedis(redis) },
    { name: 'mongodb', critical: true, check: () => pingMongo() },
    { name: 'workers', critical: true, check: async () => ({ ok: (running.workers?.list() ?? []).every((w) => w.isRunning()), detail: { count: running.workers?.list().length ?? 0, recreated: running.workers?.recreated ?? 0 } }) },
  ]);
  const healthApp = new Koa();
  healthApp.use(createErrorHandler()).use(health.routes()).use(health.allowedMethods()).use(createMetricsRouter(metrics.registry).routes());
  const healthServer = config.workerHealthPort > 0
    ? healthApp.listen(config.workerHealthPort, () => logger.info({ port: config.workerHealthPort }, 'worker health listening'))
    : undefined;

  const mongoAbort = new AbortController();
  shutdown
    .add('workers', async () => {
      mongoAbort.abort();
      // Leave time for the steps after this one within the shutdown budget.
      await running.workers?.close(Math.max(1000, config.shutdownTimeoutMs - 3000));
    })
    .add('health', () => (healthServer ? closeServer(healthServer) : undefined))
    .add('corps', () => corps.stop())
    .add('clock', () => clock.stop())
    .add('queues', () => queues.close())
    .add('mongodb', () => disconnectMongo())
    .add('redis', async () => {
      await Promise.all([redis, workerConnection, subscriber].map((c) => c.quit().catch(() => c.disconnect())));
    });

  // Processors need MongoDB; start them once it answers (retrying with backoff until then).
  const connected = await connectMongoWithRetry({ uri: config.mongo.uri, serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs, logger }, mongoAbort.signal);
  if (!connected) return;
  await corps.start();
  running.workers = startWorkers(ctx, workerConnection, factories, { alerts });
  await Promise.all([ensureCorpSchedulers(ctx, listCorpIds()), ensureCorpSchedulersScheduler(queues)]).catch((err: unknown) => logger.error({ err: (err as Error).message }, 'could not install per-corp schedulers; the hourly check retries'));
  logger.info({ queues: running.workers.list().map((w) => w.name) }, 'worker started');
}

main().catch((err: unknown) => {
  console.error(`[worker] failed to start: ${(err as Error).message}`);
  process.exit(1);
});
