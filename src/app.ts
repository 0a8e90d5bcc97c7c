import Koa from 'koa';
import type { AppConfig } from '../config/index.js';
import type { Clock } from './infra/clock.js';
import type { Logger } from './infra/logger.js';
import { createErrorHandler } from './middlewares/errors.js';
import { createRequestId } from './middlewares/request-id.js';
import { createHealthRouter, type HealthCheck } from './routes/health.routes.js';

/** Everything the web app needs, passed in so tests build it without globals. */
export interface AppDeps {
  config: AppConfig;
  logger: Logger;
  clock: Clock;
  health: HealthCheck[];
  /**
   * Routers and middleware that later features mount (callbacks, admin API, console ...).
   * Typed with a `never` context so @koa/router's narrower router context is accepted.
   */
  mounts?: Array<Koa.Middleware<Koa.DefaultState, never>>;
}

/** Builds the Koa app; never listens (src/main.ts does). */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: true });
  app.silent = true; // app.on('error') below is the single logging sink
  app.on('error', (err: Error & { status?: number }, ctx?: Koa.Context) => {
    const log = (ctx?.state.log as Logger | undefined) ?? deps.logger;
    log.error({ err, status: ctx?.status, path: ctx?.path, method: ctx?.method }, 'request failed');
  });

  const health = createHealthRouter(deps.health);
  app.use(createErrorHandler());
  app.use(createRequestId(deps.logger));
  app.use(health.routes());
  app.use(health.allowedMethods());
  for (const mount of deps.mounts ?? []) app.use(mount as Koa.Middleware);
  app.use(function notFound(ctx) {
    ctx.status = 404;
    ctx.body = { error: { code: 'not_found', message: `no route for ${ctx.method} ${ctx.path}` } };
  });
  return app;
}
