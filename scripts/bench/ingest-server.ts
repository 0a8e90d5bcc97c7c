/**
 * Child process of the ingest benchmark: serves either a bare Koa app answering 200 (`bare`) or
 * the real callback endpoint (`real`) on the port given, then prints `listening` on stdout.
 * Run from an esbuild bundle (server-process.ts); exits cleanly on SIGTERM so --cpu-prof is written.
 */
import Koa from 'koa';
import { Registry } from 'prom-client';
import { createApp, createWebServer } from '../../src/app.js';
import type { Corp } from '../../src/domain/corps/corp.types.js';
import { createIngest } from '../../src/ingest/ingest-setup.js';
import { createCallbackRoute } from '../../src/routes/callback.routes.js';
import { SystemClock } from '../../src/infra/clock.js';
import { DataCipher } from '../../src/infra/data-crypto.js';
import { createLogger } from '../../src/infra/logger.js';
import { Metrics } from '../../src/infra/metrics.js';
import { createRedis, waitForRedis } from '../../src/infra/redis.js';
import { Queues } from '../../src/queues/queue-factory.js';
import { loadConfig } from '../../config/index.js';

async function main(): Promise<void> {
  const [mode, port] = [process.argv[2], Number(process.argv[3])];
  process.once('SIGTERM', () => process.exit(0));
  if (mode === 'bare') {
    const app = new Koa();
    app.use((ctx) => {
      ctx.status = 200;
      ctx.body = '';
    });
    app.listen(port, '127.0.0.1', () => console.log('listening'));
    return;
  }
  const config = loadConfig(process.env);
  const corp = JSON.parse(process.env.BENCH_CORP ?? '{}') as Corp;
  const logger = createLogger({ level: 'warn', name: 'bench-web' });
  const redis = createRedis({ url: config.redis.url, mode: config.redis.mode, role: 'producer', logger });
  await waitForRedis(redis, config.redis.url, 5000);
  const queues = new Queues(redis, config.redis.queuePrefix, config.redis.mode, config.inboundPartitions);
  const metrics = new Metrics(new Registry());
  const clock = new SystemClock();
  const corps = Object.assign(new Map([[corp.corpId, corp]]), { loaded: true });
  const ingest = await createIngest({
    config,
    logger,
    clock,
    redis,
    queues,
    metrics,
    cipher: new DataCipher(config.dataKeys.keys, config.dataKeys.activeId),
    corps,
  });
  const app = createApp({ config, logger, clock, health: [ingest.health], mounts: [] });
  createWebServer(app, [createCallbackRoute({ ...ingest.receiver, metrics, logger })]).listen(port, '127.0.0.1', () =>
    console.log('listening'),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
