import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { SharedOffsetClock, SystemClock, type Clock } from '../../src/infra/clock.js';
import { createLogger, type Logger } from '../../src/infra/logger.js';
import { createRedis } from '../../src/infra/redis.js';
import { apiRoutes } from './api/index.js';
import { controlRouter } from './control/routes.js';
import { oauthRouter } from './control/oauth-pages.js';
import { jssdkRouter } from './control/jssdk.js';
import { CallbackDriver } from './driver/driver.js';
import { CallLog } from './server/call-log.js';
import type { SandboxContext } from './server/context.js';
import { FaultInjector } from './server/faults.js';
import { Limits } from './server/limits.js';
import { TicketStore } from './server/tickets.js';
import { TokenStore } from './server/tokens.js';
import { createWecomApi } from './server/wecom-api.js';
import { World } from './world/world.js';

export { World } from './world/world.js';
export { CallbackDriver, DriverError } from './driver/driver.js';
export type { SeedScenario } from './world/seed-schema.js';
export type { CallLogEntry } from './server/call-log.js';
export type { FaultSpec } from './server/faults.js';
export { demoScenario } from './world/demo-seed.js';

export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Defaults to SharedOffsetClock when `redisUrl` is given, else real time. */
  clock?: Clock;
  redisUrl?: string;
  /** Prefix of the shared clock offset key (the bot's QUEUE_PREFIX, default `scrm`). */
  keyPrefix?: string;
  logger?: Logger;
  /** Scenario to load at start. */
  seed?: unknown;
  /** Callback delivery (defaults: WeCom's 5 s timeout, 3 retries, 200 ms between). */
  delivery?: { timeoutMs?: number; retries?: number; retryDelayMs?: number; fetch?: typeof globalThis.fetch };
  /** Refuses to start when 'production' (default: process.env.NODE_ENV). */
  nodeEnv?: string;
}

export interface RunningSandbox {
  url: string;
  port: number;
  world: World;
  driver: CallbackDriver;
  /** Internals for tests: call log, faults, limits, tokens, clock. */
  context: SandboxContext;
  stop(): Promise<void>;
}

/**
 * Starts the local WeCom sandbox (docs/architecture.md §8): WeCom's API paths under `/cgi-bin/`, sign-in pages,
 * and the control API under `/__sandbox/`. Refuses NODE_ENV=production.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  if ((options.nodeEnv ?? process.env.NODE_ENV) === 'production') {
    throw new Error('the WeCom sandbox is a development and test tool; it refuses to run with NODE_ENV=production');
  }
  const logger = options.logger ?? createLogger({ level: 'info', name: 'wecom-sandbox' });
  const redis = options.redisUrl
    ? createRedis({
        url: options.redisUrl,
        role: 'producer',
        logger,
        connectionName: 'wecom-sandbox',
        lazyConnect: false,
      })
    : undefined;
  let sharedClock: SharedOffsetClock | undefined;
  let clock: Clock;
  if (options.clock) clock = options.clock;
  else if (redis) {
    sharedClock = new SharedOffsetClock(redis, options.keyPrefix ?? 'scrm', 250);
    await sharedClock.refresh().catch(() => 0);
    clock = sharedClock.start();
  } else clock = new SystemClock();

  let baseUrl = '';
  const world = new World(clock);
  const sb: SandboxContext = {
    world,
    clock,
    tokens: new TokenStore(clock),
    tickets: new TicketStore(clock),
    calls: new CallLog(),
    faults: new FaultInjector(),
    limits: new Limits(),
    logger,
    baseUrl: () => baseUrl,
  };
  const driver = new CallbackDriver(world, clock, {
    timeoutMs: options.delivery?.timeoutMs ?? 5000,
    retries: options.delivery?.retries ?? 3,
    retryDelayMs: options.delivery?.retryDelayMs ?? 200,
    fetch: options.delivery?.fetch ?? globalThis.fetch,
  });
  if (options.seed !== undefined) world.seed(options.seed);

  const hung = new Set<() => void>();
  const app = new Koa();
  app.on('error', (err: Error) => logger.warn({ err: err.message }, 'sandbox request error'));
  const wecomApi = createWecomApi(sb, apiRoutes, (release) => hung.add(release));
  const control = controlRouter(sb, driver, () => {
    world.reset();
    sb.tokens.reset();
    sb.tickets.reset();
    jssdk.reset();
    sb.calls.clear();
    sb.faults.clear();
    sb.limits.reset();
    driver.deliveries.length = 0;
  });
  const oauth = oauthRouter(sb);
  const jssdk = jssdkRouter(sb);
  app.use(async (ctx, next) => {
    if (ctx.path.startsWith('/cgi-bin/')) return wecomApi(ctx);
    return next();
  });
  app.use(control.routes()).use(control.allowedMethods());
  app.use(oauth.routes());
  app.use(jssdk.router.routes()).use(jssdk.router.allowedMethods());

  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${options.host ?? '127.0.0.1'}:${port}`;

  return {
    url: baseUrl,
    port,
    world,
    driver,
    context: sb,
    async stop() {
      for (const release of hung) release();
      hung.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      sharedClock?.stop();
      if (redis) await redis.quit().catch(() => undefined);
    },
  };
}
