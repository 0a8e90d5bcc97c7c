import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Koa from 'koa';
import { answerClientError } from './infra/http-server.js';
import type { AppConfig } from '../config/index.js';
import type { Clock } from './infra/clock.js';
import type { Logger } from './infra/logger.js';
import { createErrorHandler } from './middlewares/errors.js';
import { createOpsAccess } from './middlewares/ops-access.js';
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
  // X-Forwarded-For is believed only for the proxies TRUST_PROXY declares: client IPs key the rate
  // limits, and a header anyone can send must not pick their bucket (docs/security.md, "Rate limits").
  const app = new Koa({ proxy: deps.config.trustProxy > 0, maxIpsCount: deps.config.trustProxy });
  app.silent = true; // app.on('error') below is the single logging sink
  app.on('error', (err: Error & { status?: number }, ctx?: Koa.Context) => {
    const log = (ctx?.state.log as Logger | undefined) ?? deps.logger;
    log.error({ err, status: ctx?.status, path: ctx?.path, method: ctx?.method }, 'request failed');
  });

  const health = createHealthRouter(deps.health, { showDetails: createOpsAccess(deps.config) });
  app.use(securityHeaders);
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

/** Answers of the API and of console sign-in carry personal data or credentials: never cached. */
const NO_STORE_PREFIXES = ['/api/', '/console/auth/'];

/**
 * Headers every Koa answer gets (docs/security.md): `nosniff`, so a browser never runs a JSON or
 * CSV answer as a script or page, and `Cache-Control: no-store` on API and sign-in answers unless
 * the route chose its own caching.
 */
async function securityHeaders(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  try {
    await next();
  } finally {
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (!ctx.response.get('Cache-Control') && NO_STORE_PREFIXES.some((p) => ctx.path.startsWith(p)))
      ctx.set('Cache-Control', 'no-store');
  }
}

/**
 * A route served on Node's request and response ahead of the Koa app: returns true when it took
 * the request (and then answers it itself, never throwing), false to leave it to Koa.
 */
export type FrontRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The web process's HTTP server: front routes first (the WeCom callback receiver, whose volume
 * and latency budget justify skipping Koa; src/routes/callback.routes.ts), then the Koa app.
 * Tests and the benchmark build the server through here too, so they exercise what runs.
 */
export function createWebServer(app: Koa, front: FrontRoute[] = []): Server {
  const koa = app.callback();
  const server = createServer((req, res) => {
    for (const route of front) if (route(req, res)) return;
    void koa(req, res);
  });
  // Unparseable requests: a complete 4xx, then a lingering close (src/infra/http-server.ts).
  return server.on('clientError', answerClientError);
}
