import Koa from 'koa';
import { PersonalData } from '../src/domain/customers/personal-data.js';
import { OutboxRelay } from '../src/domain/events/outbox-relay.js';
import { Alerter } from '../src/infra/alerts.js';
import { closeServer } from '../src/infra/http-server.js';
import { connectMongoWithRetry, disconnectMongo, pingMongo } from '../src/infra/mongo.js';
import { createRedis, pingRedis, redisSecurity } from '../src/infra/redis.js';
import { QueueName } from '../src/queues/queue-names.js';
import { createErrorHandler } from '../src/middlewares/errors.js';
import { createHealthRouter } from '../src/routes/health.routes.js';
import { bootProcess } from '../src/process-boot.js';
import { createMetricsRouter } from '../src/routes/ops.routes.js';
import { createWecomClient } from '../src/wecom/client.js';
import { keepAliveFetch } from '../src/wecom/keep-alive-fetch.js';
import type { WorkerContext } from './context.js';
import { CorpReadCache } from '../src/domain/corps/corp-read-cache.js';
import { createProcessorFactories } from './registry.js';
import { installSchedulers } from './schedulers.js';
import { OUTBOX_LAG_READY_S, outboxReadiness, queueReadiness } from './worker-readiness.js';
import { startWorkers, type RunningWorkers } from './worker-runner.js';

/** The worker process: BullMQ processors and schedulers (docs/architecture.md §2). */
async function main(): Promise<void> {
  const { config, logger, shutdown, redis, subscriber, clock, queues, metrics, corps } = await bootProcess(
    'worker',
    'workers wait for it',
  );
  const workerConnection = createRedis({
    url: config.redis.url,
    ...redisSecurity(config),
    role: 'worker',
    logger,
    connectionName: 'scrm-worker',
  });
  // The one WeCom client of this process (docs/architecture.md §4): tokens, rate limits and retries shared in Redis.
  // Rate-limited calls are not retried inside a job: the runner pauses the queue (docs/architecture.md §4, "Failures").
  const wecom = createWecomClient({
    apiBase: config.wecom.apiBase,
    redis,
    logger,
    clock,
    timeoutMs: config.wecom.timeoutMs,
    keyPrefix: config.redis.queuePrefix,
    retry: { rateLimitRetries: 0 },
    // node:http with kept-alive sockets instead of Node's fetch: less CPU per call (src/wecom/keep-alive-fetch.ts).
    fetch: keepAliveFetch,
  });

  // Operator alerts as WeCom app messages.
  const sendAlert = async (corpId: string, userIds: string[], text: string) => {
    const corp = corps.get(corpId);
    if (!corp) throw new Error(`ALERT_WECOM_CORP_ID ${corpId} is not a configured corp`);
    await wecom
      .forCorp({ corpId, secret: corp.secret, agentId: corp.agentId })
      .sendMessage({ touser: userIds.join('|'), agentid: corp.agentId, msgtype: 'text', text: { content: text } });
  };
  // The worker's own alerts (job failures, outbox lag) go straight to WeCom: not through Redis, which may be the problem.
  const alertCorpId = config.alerts.wecomCorpId;
  const alerts = new Alerter({
    logger,
    metrics,
    minIntervalMs: config.alerts.minIntervalS * 1000,
    sink:
      alertCorpId && config.alerts.userIds.length > 0
        ? (text) => sendAlert(alertCorpId, [...config.alerts.userIds], text)
        : undefined,
  });
  const ctx: WorkerContext = {
    config,
    logger,
    clock,
    redis,
    queues,
    corps,
    metrics,
    alerts,
    wecom,
    pd: PersonalData.fromConfig(config),
    // Tag groups and rules per corp in memory, cleared by the change notices (docs/scale.md §4).
    reads: new CorpReadCache(),
  };
  // Moves domain events from the MongoDB outbox to the domain-events queue (docs/reliability.md).
  const outboxRelay = new OutboxRelay({
    queues,
    logger,
    registry: metrics.registry,
    alerts,
    lagAlertS: OUTBOX_LAG_READY_S,
  });
  const listCorpIds = () => corps.all().map((c) => c.corpId);
  const factories = createProcessorFactories({
    sendAlert,
    listCorpIds,
    inlineDomainEvents: config.inlineDomainEvents,
  });

  const running: { workers?: RunningWorkers } = {};
  const health = createHealthRouter([
    { name: 'redis', critical: true, check: () => pingRedis(redis) },
    { name: 'mongodb', critical: true, check: () => pingMongo() },
    {
      name: 'workers',
      critical: true,
      check: async () => ({
        ok: (running.workers?.list() ?? []).every((w) => w.isRunning()),
        detail: { count: running.workers?.list().length ?? 0, recreated: running.workers?.recreated ?? 0 },
      }),
    },
    // Every queue this process enqueues to must take jobs (a broken handle is replaced by the check).
    { name: 'queues', critical: true, check: () => queueReadiness(queues, Object.values(QueueName)) },
    { name: 'outbox', critical: true, check: async () => outboxReadiness(outboxRelay) },
  ]);
  const healthApp = new Koa();
  healthApp
    .use(createErrorHandler())
    .use(health.routes())
    .use(health.allowedMethods())
    .use(createMetricsRouter(metrics.registry).routes());
  const healthServer =
    config.workerHealthPort > 0
      ? healthApp.listen(config.workerHealthPort, () =>
          logger.info({ port: config.workerHealthPort }, 'worker health listening'),
        )
      : undefined;

  const mongoAbort = new AbortController();
  shutdown
    .add('workers', async () => {
      mongoAbort.abort();
      await outboxRelay.stop();
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
  const connected = await connectMongoWithRetry(
    { uri: config.mongo.uri, serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs, logger },
    mongoAbort.signal,
  );
  if (!connected) return;
  await corps.start();
  running.workers = startWorkers(ctx, workerConnection, factories, { alerts, queues: config.workerQueues });
  outboxRelay.start();
  // Job schedulers only for the queues this worker consumes (WORKER_QUEUES): the welcome-only worker installs none.
  await installSchedulers(ctx, config.workerQueues, listCorpIds(), logger);
  logger.info({ queues: running.workers.list().map((w) => w.name) }, 'worker started');
}

main().catch((err: unknown) => {
  console.error(`[worker] failed to start: ${(err as Error).message}`);
  process.exit(1);
});
