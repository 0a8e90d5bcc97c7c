import type { Server } from 'node:http';
import mongoose from 'mongoose';
import { Registry } from 'prom-client';
import { createApp } from './app.js';
import { CorpCache } from './domain/corps/corp-cache.js';
import { CorpService } from './domain/corps/corp.service.js';
import { applyCorpsFile } from './domain/corps/corps-file.js';
import { PersonalData } from './domain/customers/personal-data.js';
import { createIngest } from './ingest/ingest-setup.js';
import { createAlertSink } from './ingest/alert-sink.js';
import { Alerter } from './infra/alerts.js';
import { loadConfigOrExit } from './infra/bootstrap.js';
import { createProcessClock } from './infra/clock.js';
import { DataCipher } from './infra/data-crypto.js';
import { createLogger } from './infra/logger.js';
import { Metrics } from './infra/metrics.js';
import { connectMongoWithRetry, disconnectMongo, pingMongo } from './infra/mongo.js';
import { startQueueAgeMonitor } from './infra/queue-monitor.js';
import { createRedis, pingRedis, prepareRedisAtBoot } from './infra/redis.js';
import { closeServer } from './infra/http-server.js';
import { Shutdown } from './infra/shutdown.js';
import { Queues } from './queues/queue-factory.js';
import { QueueName } from './queues/queue-names.js';
import { createApiRouter } from './routes/api/api.router.js';
import { createConsoleMounts } from './routes/console/console.router.js';
import { ConsoleSessions } from './domain/auth/console-session.js';
import { TokenService } from './domain/auth/token.service.js';
import { createWecomClient } from './wecom/client.js';
import { createMetricsRouter, createQueueDashboard } from './routes/ops.routes.js';

/** The web process: callbacks, admin API, console, health and metrics (design §2). */
async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, 'web');
  const logger = createLogger({ level: config.logLevel, name: 'web' });
  const shutdown = new Shutdown(logger, config.shutdownTimeoutMs);
  shutdown.installSignalHandlers();

  const redis = createRedis({ url: config.redis.url, role: 'producer', logger, connectionName: 'scrm-web' });
  const subscriber = createRedis({ url: config.redis.url, role: 'subscriber', logger, connectionName: 'scrm-web-sub' });
  await prepareRedisAtBoot(redis, config.redis.url, logger, config.isProduction, 'callbacks are spooled until it answers');
  const clock = await createProcessClock(redis, config.redis.queuePrefix, config.isProduction);
  const queues = new Queues(redis, config.redis.queuePrefix);
  const allQueues = () => Object.values(QueueName).map((name) => queues.get(name));
  const cipher = new DataCipher(config.dataKeys.keys, config.dataKeys.activeId);
  const metrics = new Metrics(new Registry(), { defaultMetrics: true, queues: allQueues, nowMs: () => clock.nowMs() });
  const alerts = new Alerter({ logger, metrics, minIntervalMs: config.alerts.minIntervalS * 1000, sink: createAlertSink(config, queues) });

  // Corps: memory + encrypted Redis snapshot; MongoDB when it answers (never on the callback path).
  const corpService = new CorpService({ cipher, defaultTimezone: config.defaultTimezone, redis, prefix: config.redis.queuePrefix });
  const corps = await new CorpCache({
    source: corpService,
    sourceReady: () => mongoose.connection.readyState === 1,
    redis,
    subscriber,
    cipher,
    prefix: config.redis.queuePrefix,
    refreshMs: config.corps.refreshS * 1000,
    logger,
  }).start();

  // The web never waits for MongoDB: callbacks do not need it (design §3).
  const mongoAbort = new AbortController();
  void connectMongoWithRetry({ uri: config.mongo.uri, serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs, logger }, mongoAbort.signal).then(async (connected) => {
    if (!connected) return;
    if (config.corps.file) await applyCorpsFile(config.corps.file, corpService, logger).catch((err: Error) => logger.error({ alert: true, err: err.message }, 'CORPS_FILE not applied'));
    await corps.refresh();
  });

  const ingest = await createIngest({ config, logger, clock, redis, queues, metrics, cipher, corps, alerts });
  const stopQueueMonitor = startQueueAgeMonitor(allQueues, alerts, config.alerts.queueAgeS, 30_000, () => clock.nowMs());
  const metricsRouter = createMetricsRouter(metrics.registry);
  // The admin API reads MongoDB; while it is down its routes fail fast (bufferCommands off) with 503.
  const sessions = new ConsoleSessions(redis, config.redis.queuePrefix, config.lookupHmacKey);
  const api = createApiRouter({ config, clock, queues, pd: PersonalData.fromConfig(config), redis, corpService, sessions });
  // Console sign-in exchanges its code here, not in the worker: see console-auth.routes.ts.
  const wecom = createWecomClient({ apiBase: config.wecom.apiBase, redis, logger, clock, timeoutMs: config.wecom.timeoutMs, keyPrefix: config.redis.queuePrefix, retry: { maxRetries: 1 } });
  const tokens = new TokenService(() => clock.now());
  const consoleMounts = createConsoleMounts({
    config, clock, sessions, corp: (id) => corps.get(id), corps: () => corps.all(), resolveToken: (t) => tokens.resolve(t),
    exchangeCode: async (corp, code) => (await wecom.forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: corp.agentId }).getUserInfoByCode(code)).userid || undefined,
  });

  const app = createApp({
    config,
    logger,
    clock,
    health: [
      ingest.health,
      { name: 'redis', critical: false, check: () => pingRedis(redis) },
      { name: 'mongodb', critical: false, check: () => pingMongo() },
    ],
    mounts: [
      ingest.router.routes(),
      api.routes(),
      api.allowedMethods(),
      ...consoleMounts,
      metricsRouter.routes(),
      createQueueDashboard(allQueues(), config.bootstrapApiToken),
    ],
  });

  const server: Server = app.listen(config.port, () => logger.info({ port: config.port, corps: corps.status() }, 'web listening'));
  server.keepAliveTimeout = 65_000; // longer than common load-balancer idle timeouts

  shutdown
    .add('http', () => closeServer(server))
    .add('ingest', async () => {
      stopQueueMonitor();
      corps.stop();
      await ingest.stop();
    })
    .add('clock', () => clock.stop())
    .add('queues', () => queues.close())
    .add('mongodb', async () => {
      mongoAbort.abort();
      await disconnectMongo();
    })
    .add('redis', async () => {
      await Promise.all([redis.quit().catch(() => redis.disconnect()), subscriber.quit().catch(() => subscriber.disconnect())]);
    });
}

main().catch((err: unknown) => {
  console.error(`[web] failed to start: ${(err as Error).message}`);
  process.exit(1);
});
