import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import type { AppConfig } from '../../config/index.js';
import { createApp, createWebServer } from '../app.js';
import type { Corp } from '../domain/corps/corp.types.js';
import { createIngest, type Ingest } from '../ingest/ingest-setup.js';
import type { JobWriter } from '../ingest/job-writer.js';
import { createCallbackRoute } from '../routes/callback.routes.js';
import { Alerter } from '../infra/alerts.js';
import { SystemClock, type Clock } from '../infra/clock.js';
import { defaultRetentionSettings } from '../domain/customers/retention-settings.js';
import { DataCipher } from '../infra/data-crypto.js';
import { createLogger, type Logger } from '../infra/logger.js';
import { Metrics } from '../infra/metrics.js';
import { createRedis } from '../infra/redis.js';
import { Queues } from '../queues/queue-factory.js';
import { QueueName } from '../queues/queue-names.js';
import { createMetricsRouter } from '../routes/ops.routes.js';
import { generateEncodingAesKey } from '../wecom/callback-crypto.js';
import { testConfig, uniqueName } from './env.js';
import { waitFor } from './wait.js';

/** A corp with fresh random credentials (what an admin would paste from the WeCom console). */
export function makeCorp(overrides: Partial<Corp> = {}): Corp {
  return {
    corpId: `ww${randomBytes(8).toString('hex')}`,
    kind: 'dealer',
    displayName: 'Test dealer',
    agentId: 1000002,
    secret: randomBytes(16).toString('hex'),
    callback: { token: randomAlnum(32), encodingAesKey: generateEncodingAesKey() },
    contactSync: { token: randomAlnum(24), encodingAesKey: generateEncodingAesKey() },
    timezone: 'Asia/Shanghai',
    enabled: true,
    ...overrides,
    retention: overrides.retention ?? defaultRetentionSettings,
  };
}

export function randomAlnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

export interface CallbackApp {
  url: string;
  server: Server;
  config: AppConfig;
  queue: Queue;
  queues: Queues;
  ingest: Ingest;
  metrics: Metrics;
  corps: Map<string, Corp>;
  logger: Logger;
  /** The data cipher the ingest seals job payloads with. */
  cipher: DataCipher;
  /** Jobs of every state in wecom-inbound. */
  jobCount(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The real callback endpoint over real HTTP, on real Redis, with a private queue prefix and
 * spool directory; corps come from a plain map (the cache is tested on its own).
 */
export async function startCallbackApp(opts: {
  corps: Corp[];
  env?: Record<string, string>;
  clock?: Clock;
  logger?: Logger;
  jobWriter?: JobWriter;
}): Promise<CallbackApp> {
  const spoolDir = mkdtempSync(join(tmpdir(), 'scrm-spool-'));
  const config = testConfig({ SPOOL_PATH: spoolDir, ...opts.env });
  const logger = opts.logger ?? createLogger({ level: 'silent', name: 'test' });
  const redis = createRedis({
    url: config.redis.url,
    mode: config.redis.mode,
    role: 'producer',
    logger,
    connectionName: uniqueName('test-web'),
  });
  await waitFor(() => redis.status === 'ready', 'redis ready');
  const queues = new Queues(redis, config.redis.queuePrefix, config.redis.mode, config.inboundPartitions);
  const queue = queues.get(QueueName.wecomInbound);
  const metrics = new Metrics(new Registry(), { queues: () => [queue] });
  const corps = new Map(opts.corps.map((c) => [c.corpId, c]));
  const cipher = new DataCipher(config.dataKeys.keys, config.dataKeys.activeId);
  const clock = opts.clock ?? new SystemClock();
  const alerts = new Alerter({ logger, metrics, minIntervalMs: 60_000 });
  const ingest = await createIngest({
    config,
    logger,
    clock,
    redis,
    queues,
    metrics,
    cipher,
    corps: Object.assign(corps, { loaded: true }),
    alerts,
    jobWriter: opts.jobWriter,
  });
  const app = createApp({
    config,
    logger,
    clock,
    health: [ingest.health],
    mounts: [createMetricsRouter(metrics.registry).routes()],
  });
  const server = createWebServer(app, [createCallbackRoute({ ...ingest.receiver, metrics, logger })]).listen(
    0,
    '127.0.0.1',
  );
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    config,
    queue,
    queues,
    ingest,
    metrics,
    corps,
    logger,
    cipher,
    async jobCount() {
      const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await ingest.stop();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queues.close();
      redis.disconnect();
      rmSync(spoolDir, { recursive: true, force: true });
    },
  };
}
