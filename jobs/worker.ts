import Koa from 'koa';
import { PersonalData } from '../src/domain/customers/personal-data.js';
import { Alerter } from '../src/infra/alerts.js';
import { closeServer } from '../src/infra/http-server.js';
import { connectMongoWithRetry, disconnectMongo, pingMongo } from '../src/infra/mongo.js';
import { createRedis, pingRedis, redisSecurity } from '../src/infra/redis.js';
import { createErrorHandler } from '../src/middlewares/errors.js';
import { createHealthRouter } from '../src/routes/health.routes.js';
import { bootProcess } from '../src/process-boot.js';
import { createMetricsRouter } from '../src/routes/ops.routes.js';
import { createWecomClient } from '../src/wecom/client.js';
import type { WorkerContext } from './context.js';
import { ensureCorpSchedulers, ensureCorpSchedulersScheduler } from './processors/customer-maintenance.tasks.js';
import { createProcessorFactories } from './registry.js';
import { startWorkers, type RunningWorkers } from './worker-runner.js';

/** The worker process: BullMQ processors and schedulers (design §2). */
async function main(): Promise<void> {
  const { config, logger, shutdown, redis, subscriber, clock, queues, metrics, corps } = await bootProcess('worker', 'workers wait for it');
  const workerConnection = createRedis({ url: config.redis.url, ...redisSecurity(config), role: 'worker', logger, connectionName: 'scrm-worker' });
  const alerts = new Alerter({ logger, metrics, minIntervalMs: config.alerts.minIntervalS * 1000 });
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
  running.workers = startWorkers(ctx, workerConnection, factories, { alerts, queues: config.workerQueues });
  await Promise.all([ensureCorpSchedulers(ctx, listCorpIds()), ensureCorpSchedulersScheduler(queues)]).catch((err: unknown) => logger.error({ err: (err as Error).message }, 'could not install per-corp schedulers; the hourly check retries'));
  logger.info({ queues: running.workers.list().map((w) => w.name) }, 'worker started');
}

main().catch((err: unknown) => {
  console.error(`[worker] failed to start: ${(err as Error).message}`);
  process.exit(1);
});
