import type { Server } from 'node:http';
import { createApp, createWebServer } from './app.js';
import { applyCorpsFile } from './domain/corps/corps-file.js';
import { PersonalData } from './domain/customers/personal-data.js';
import { createIngest } from './ingest/ingest-setup.js';
import { createCallbackRoute } from './routes/callback.routes.js';
import { createAlertSink } from './ingest/alert-sink.js';
import { Alerter } from './infra/alerts.js';
import { connectMongoWithRetry, disconnectMongo, pingMongo } from './infra/mongo.js';
import { startQueueAgeMonitor } from './infra/queue-monitor.js';
import { bootProcess } from './process-boot.js';
import { QueueName } from './queues/queue-names.js';
import { queueReadiness } from './queues/queue-readiness.js';
import { pingRedis } from './infra/redis.js';
import { closeServer } from './infra/http-server.js';
import { createApiRouter } from './routes/api/api.router.js';
import { createWebhooksRouter } from './routes/webhooks/webhooks.router.js';
import { createConsoleMounts } from './routes/console/console.router.js';
import { ConsoleSessions } from './domain/auth/console-session.js';
import { TokenService } from './domain/auth/token.service.js';
import { createPrincipalSource } from './domain/auth/principal-source.js';
import { BOOTSTRAP_TOKEN_ID } from './middlewares/auth.js';
import { createWecomClient } from './wecom/client.js';
import { NotFoundError } from './infra/errors.js';
import { createMetricsRouter, createQueueDashboard } from './routes/ops.routes.js';
import { createOpsAccess } from './middlewares/ops-access.js';

/** The web process: callbacks, admin API, console, health and metrics (docs/architecture.md §2). */
async function main(): Promise<void> {
  const {
    config,
    logger,
    shutdown,
    redis,
    subscriber,
    clock,
    queues,
    allQueues,
    cipher,
    metrics,
    corpService,
    corps: corpCache,
  } = await bootProcess('web', 'callbacks are spooled until it answers');
  const alerts = new Alerter({
    logger,
    metrics,
    minIntervalMs: config.alerts.minIntervalS * 1000,
    sink: createAlertSink(config, queues),
  });
  const corps = await corpCache.start();

  // The web never waits for MongoDB: callbacks do not need it (docs/architecture.md §3).
  const mongoAbort = new AbortController();
  void connectMongoWithRetry(
    { uri: config.mongo.uri, serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs, logger },
    mongoAbort.signal,
  ).then(async (connected) => {
    if (!connected) return;
    if (config.corps.file)
      await applyCorpsFile(config.corps.file, corpService, logger).catch((err: Error) =>
        logger.error({ alert: true, err: err.message }, 'CORPS_FILE not applied'),
      );
    await corps.refresh();
  });

  const ingest = await createIngest({ config, logger, clock, redis, queues, metrics, cipher, corps, alerts });
  const stopQueueMonitor = startQueueAgeMonitor(allQueues, alerts, config.alerts.queueAgeS, 30_000, () =>
    clock.nowMs(),
  );
  const metricsRouter = createMetricsRouter(metrics.registry, { allow: createOpsAccess(config) });
  // The admin API reads MongoDB; while it is down its routes fail fast (bufferCommands off) with 503.
  const tokens = new TokenService(() => clock.now());
  // Sessions re-check their rights (token, console roles, member directory) at most every 30 s.
  const sessions = new ConsoleSessions(redis, config.redis.queuePrefix, {
    nowMs: () => clock.nowMs(),
    revalidate: createPrincipalSource({
      corp: (id) => corps.get(id),
      tokenById: (id) => tokens.resolveById(id),
      bootstrapTokenId: BOOTSTRAP_TOKEN_ID,
      bootstrapConfigured: Boolean(config.bootstrapApiToken),
    }),
  });
  const webhooks = createWebhooksRouter({
    config,
    clock,
    logger,
    queues,
    pd: PersonalData.fromConfig(config),
    redis,
    corpService,
  });
  // Console sign-in exchanges its code here, not in the worker: see console-auth.routes.ts; the
  // sidebar's JS-SDK tickets come from the same client's Redis cache (docs/wecom.md §10.2).
  const wecom = createWecomClient({
    apiBase: config.wecom.apiBase,
    redis,
    logger,
    clock,
    timeoutMs: config.wecom.timeoutMs,
    keyPrefix: config.redis.queuePrefix,
    retry: { maxRetries: 1 },
  });
  const jsapi = {
    async ticket(corpId: string, kind: 'corp' | 'agent') {
      const corp = corps.get(corpId);
      if (!corp || !corp.enabled) throw new NotFoundError(`no corp ${corpId}`, 'corp_not_found');
      return {
        ticket: await wecom.jsapiTicket({ corpId, secret: corp.secret, agentId: corp.agentId }, kind),
        agentId: corp.agentId,
      };
    },
  };
  const api = createApiRouter({
    config,
    clock,
    logger,
    queues,
    pd: PersonalData.fromConfig(config),
    redis,
    corpService,
    corps,
    sessions,
    jsapi,
  });
  const consoleMounts = createConsoleMounts({
    config,
    clock,
    sessions,
    redis,
    corp: (id) => corps.get(id),
    corps: () => corps.all(),
    resolveToken: (t) => tokens.resolve(t),
    exchangeCode: async (corp, code) =>
      (await wecom.forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: corp.agentId }).getUserInfoByCode(code))
        .userid || undefined,
  });

  const app = createApp({
    config,
    logger,
    clock,
    health: [
      ingest.health,
      { name: 'redis', critical: false, check: () => pingRedis(redis) },
      { name: 'mongodb', critical: false, check: () => pingMongo() },
      // Degraded, not down: callbacks are spooled while a queue cannot take jobs, and ingest says when that fails too.
      { name: 'queues', critical: false, check: () => queueReadiness(queues, Object.values(QueueName)) },
    ],
    mounts: [
      api.routes(),
      api.allowedMethods(),
      webhooks.routes(),
      webhooks.allowedMethods(),
      ...consoleMounts,
      metricsRouter.routes(),
      ...(config.queueDashboard === 'off'
        ? []
        : [
            createQueueDashboard({
              queues: allQueues(),
              sessions,
              mode: config.queueDashboard,
              publicBaseUrl: config.publicBaseUrl,
            }),
          ]),
    ],
  });

  const server: Server = createWebServer(app, [createCallbackRoute({ ...ingest.receiver, metrics, logger })]).listen(
    config.port,
    () => logger.info({ port: config.port, corps: corps.status() }, 'web listening'),
  );
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
      await Promise.all([
        redis.quit().catch(() => redis.disconnect()),
        subscriber.quit().catch(() => subscriber.disconnect()),
      ]);
    });
}

main().catch((err: unknown) => {
  console.error(`[web] failed to start: ${(err as Error).message}`);
  process.exit(1);
});
