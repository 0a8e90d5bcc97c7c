import type { Redis } from 'ioredis';
import type Koa from 'koa';
import mongoose from 'mongoose';
import { afterAll, beforeAll } from 'vitest';
import { startSandbox, demoScenario, type RunningSandbox } from '../../scripts/wecom-sandbox/index.js';
import {
  DEMO_CALLBACK,
  DEMO_CONTACT_SYNC,
  DEMO_CORP_ID,
  DEMO_SECRET,
} from '../../scripts/wecom-sandbox/world/demo-seed.js';
import { createApp } from '../../src/app.js';
import { CorpService } from '../../src/domain/corps/corp.service.js';
import type { Corp } from '../../src/domain/corps/corp.types.js';
import { PersonalData } from '../../src/domain/customers/personal-data.js';
import type { RetentionSettings } from '../../src/domain/customers/retention-settings.js';
import { DEMO_RETENTION } from '../../scripts/lib/demo-corp.js';
import type { PrivacySettings } from '../../src/domain/privacy/privacy-settings.js';
import { ManualClock } from '../../src/infra/clock.js';
import { DataCipher } from '../../src/infra/data-crypto.js';
import type { Logger } from '../../src/infra/logger.js';
import { createRedis } from '../../src/infra/redis.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { createApiRouter } from '../../src/routes/api/api.router.js';
import { createWebhooksRouter } from '../../src/routes/webhooks/webhooks.router.js';
import { startCallbackApp, type CallbackApp } from '../../src/testing/callback-app.js';
import { testMongoUri, uniqueName } from '../../src/testing/env.js';
import { waitFor } from '../../src/testing/wait.js';
import { createWecomClient } from '../../src/wecom/client.js';
import type { Tuning } from '../../src/domain/tuning.js';
import type { WorkerContext } from '../context.js';
import { createProcessorFactories } from '../registry.js';
import { installSchedulers } from '../schedulers.js';
import { startWorkers, type RunningWorkers } from '../worker-runner.js';

export { DEMO_RETENTION };

export interface BotHarness {
  sandbox: RunningSandbox;
  web: CallbackApp;
  ctx: WorkerContext;
  workers: RunningWorkers;
  clock: ManualClock;
  corp: Corp;
  corpId: string;
  /** Real time (ms) of each WeCom API call the worker made, by endpoint, in order. */
  apiCalls: Array<{ endpoint: string; atMs: number }>;
  /** Resolves when no job waits, runs or is due in any queue. */
  settle(what?: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole bot in one test process, wired as in production: the WeCom sandbox delivers
 * encrypted callbacks over HTTP to the real callback endpoint, which enqueues in real Redis;
 * real BullMQ workers run every processor against the dev MongoDB server and call the sandbox's
 * API through the real client. Web, worker and sandbox share one manual clock.
 */
/** `logger`: where web, worker and sandbox log (tests capture lines with it); `privacy`: the corp's notice and retention settings. */
export async function startBotHarness(
  opts: {
    retention?: RetentionSettings;
    startAt?: number;
    logger?: Logger;
    privacy?: PrivacySettings;
    tuning?: Partial<Tuning>;
    /** A MongoDB of its own (default: a fresh database on the suite's server). */ mongoUri?: string;
  } = {},
): Promise<BotHarness> {
  const clock = new ManualClock(opts.startAt ?? Date.now());
  const corp: Corp = {
    corpId: DEMO_CORP_ID,
    kind: 'dealer',
    displayName: 'demo',
    agentId: 1000002,
    secret: DEMO_SECRET,
    callback: { token: DEMO_CALLBACK.token, encodingAesKey: DEMO_CALLBACK.encodingAesKey },
    contactSync: { token: DEMO_CONTACT_SYNC.token, encodingAesKey: DEMO_CONTACT_SYNC.encodingAesKey },
    timezone: 'Asia/Shanghai',
    enabled: true,
    retention: opts.retention ?? DEMO_RETENTION,
    ...(opts.privacy ? { privacy: opts.privacy } : {}),
  };
  await mongoose.connect(opts.mongoUri ?? testMongoUri(uniqueName('e2e')), { serverSelectionTimeoutMS: 5000 });
  await Promise.all(Object.values(mongoose.models).map((m) => m.syncIndexes()));
  const web = await startCallbackApp({ corps: [corp], clock, ...(opts.logger ? { logger: opts.logger } : {}) });
  const sandbox = await startSandbox({
    port: 0,
    clock,
    seed: demoScenario(web.url),
    logger: web.logger,
    delivery: { timeoutMs: 3000, retries: 3, retryDelayMs: 50 },
  });

  const apiCalls: BotHarness['apiCalls'] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    apiCalls.push({ endpoint: url.pathname.replace(/^\/cgi-bin\//, ''), atMs: Date.now() });
    return fetch(input, init);
  };
  const redis: Redis = createRedis({
    url: web.config.redis.url,
    mode: web.config.redis.mode,
    role: 'producer',
    logger: web.logger,
    connectionName: uniqueName('e2e-worker'),
  });
  const workerConn: Redis = createRedis({
    url: web.config.redis.url,
    mode: web.config.redis.mode,
    role: 'worker',
    logger: web.logger,
    connectionName: uniqueName('e2e-bclient'),
  });
  const ctx: WorkerContext = {
    config: web.config,
    logger: web.logger,
    clock,
    redis,
    queues: web.queues,
    corps: { get: (id) => web.corps.get(id) },
    wecom: createWecomClient({
      apiBase: sandbox.url,
      fetch: recordingFetch,
      redis,
      logger: web.logger,
      clock,
      keyPrefix: web.config.redis.queuePrefix,
      timeoutMs: 3000,
    }),
    pd: PersonalData.fromConfig(web.config),
    // Message batches and result polls run at once; a test may shorten more (src/domain/tuning.ts).
    tuning: { messageBatchWindowMs: 0, messagePollDelayMs: 0, ...opts.tuning },
  };
  const workers = startWorkers(
    ctx,
    workerConn,
    createProcessorFactories({ listCorpIds: () => [...web.corps.keys()] }),
    { intervalMs: 600_000 },
  );
  // As the worker does at start (jobs/worker.ts): the cluster's job schedulers (the minute sweep, the ticks).
  await installSchedulers(ctx, Object.values(QueueName), [], web.logger);

  const settle = async (what = 'the bot to finish its work') => {
    const names = Object.values(QueueName).filter((n) => n !== QueueName.maintenance);
    await waitFor(
      async () => {
        for (const queue of names.flatMap((name) => web.queues.partitions(name))) {
          const c = await queue.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
          if ((c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) > 0) return false;
        }
        return true;
      },
      what,
      { timeoutMs: 20_000, intervalMs: 50 },
    );
  };

  return {
    sandbox,
    web,
    ctx,
    workers,
    clock,
    corp,
    corpId: corp.corpId,
    apiCalls,
    settle,
    async stop() {
      await workers.close(2000);
      await sandbox.stop();
      for (const q of web.queues.all()) await q.obliterate({ force: true }).catch(() => undefined);
      await web.stop();
      redis.disconnect();
      workerConn.disconnect();
      await mongoose.connection.dropDatabase().catch(() => undefined);
      await mongoose.disconnect();
    },
  };
}

/** The harness for a whole test file: started in `beforeAll` (then `ready` gets it), stopped in `afterAll`. */
export function useBotHarness(ready: (bot: BotHarness) => void): void {
  let bot: BotHarness | undefined;
  beforeAll(async () => {
    bot = await startBotHarness();
    ready(bot);
  }, 60_000);
  afterAll(async () => {
    await bot?.stop();
  });
}

/** The id of the 保客 tag in the sandbox's copy of the harness corp. */
export const ownerTagId = (bot: BotHarness) =>
  bot.sandbox.world.corp(bot.corpId)?.tags.find((t) => t.name === '保客')?.id;

/** The sandbox's follow relationship of `userid` with the external contact `ext`. */
export const follow = (bot: BotHarness, userid: string, ext: string) =>
  bot.sandbox.world.corp(bot.corpId)?.follows.find((f) => f.userid === userid && f.external_userid === ext);

/**
 * The bot's API (and, with `webhooks`, the signed webhooks: DMS outcomes, leads) as an app in this
 * process over the harness's stores and clock, for supertest.
 */
export function botApiApp(bot: BotHarness, opts: { webhooks?: boolean } = {}): Koa {
  const { config } = bot.web;
  const deps = {
    config,
    clock: bot.clock,
    logger: bot.ctx.logger,
    queues: bot.web.queues,
    pd: bot.ctx.pd,
    redis: bot.ctx.redis,
    corpService: new CorpService({
      cipher: new DataCipher(config.dataKeys.keys, config.dataKeys.activeId),
      defaultTimezone: 'Asia/Shanghai',
      prefix: config.redis.queuePrefix,
    }),
  };
  return createApp({
    config,
    logger: bot.ctx.logger,
    clock: bot.clock,
    health: [],
    mounts: [createApiRouter(deps).routes(), ...(opts.webhooks ? [createWebhooksRouter(deps).routes()] : [])],
  });
}
