import Router from '@koa/router';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { Context, Middleware, Next } from 'koa';
import type { Registry } from 'prom-client';
import { SESSION_COOKIE, type ConsoleSessions } from '../domain/auth/console-session.js';

/**
 * `GET /metrics`: Prometheus text from the registry passed in (never prom-client's global one),
 * to callers `allow` accepts (the web port: src/middlewares/ops-access.ts; the worker's internal
 * health port passes none).
 */
export function createMetricsRouter(registry: Registry, opts: { allow?: (ctx: Context) => boolean } = {}): Router {
  const router = new Router();
  router.get('/metrics', async function metrics(ctx) {
    ctx.set('Cache-Control', 'no-store');
    if (opts.allow && !opts.allow(ctx)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="scrm-ops"');
      ctx.body = {
        error: {
          code: 'ops_token_required',
          message: "send Authorization: Bearer <OPS_TOKEN>, or scrape the worker's internal health port",
        },
      };
      return;
    }
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return router;
}

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

export interface QueueDashboardOptions {
  queues: readonly Queue[];
  sessions: ConsoleSessions;
  /** `read-only`: views only; `operate`: also the actions in OPERATE_ACTIONS (QUEUE_DASHBOARD). */
  mode: 'read-only' | 'operate';
  /** PUBLIC_BASE_URL: the only origin whose pages may send state-changing requests. */
  publicBaseUrl: string;
}

/**
 * The state-changing dashboard requests `operate` allows. Adding, editing or obliterating jobs
 * stays out in every mode: a job added here runs with the worker's rights (docs/security.md,
 * "Queue dashboard").
 */
const OPERATE_ACTIONS: readonly RegExp[] = [
  /^\/api\/queues\/[^/]+\/(?:retry|clean)\/[a-z]+$/,
  /^\/api\/queues\/[^/]+\/(?:promote|pause|resume)$/,
  /^\/api\/queues\/[^/]+\/[^/]+\/(?:retry|clean|promote)$/,
  /^\/api\/queues\/(?:pause|resume)$/,
];
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The BullMQ dashboard (@bull-board/koa) at /admin/queues, for console admins only
 * (docs/security.md, "Queue dashboard"): the console session cookie must belong to an `admin`
 * principal; Authorization headers are ignored, so no static token opens it. Read-only unless
 * QUEUE_DASHBOARD=operate, enforced here and not only in bull-board's UI. State-changing
 * requests must be JSON from the console's own origin (the Origin header), which together with
 * the SameSite=Lax cookie closes cross-site request forgery; form posts are refused outright.
 * Job data shown here is ids or sealed values only (docs/data-inventory.md), and nothing is cached.
 */
export function createQueueDashboard(opts: QueueDashboardOptions): Middleware {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  const readOnlyMode = opts.mode !== 'operate';
  createBullBoard({
    queues: opts.queues.map((q) => new BullMQAdapter(q, { readOnlyMode, allowRetries: !readOnlyMode })),
    serverAdapter,
  });
  const board = serverAdapter.registerPlugin();
  const origin = new URL(opts.publicBaseUrl).origin;
  const refuse = (ctx: Context, status: number, code: string, message: string) => {
    ctx.status = status;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: { code, message } };
  };
  return async function queueDashboard(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== QUEUE_DASHBOARD_PATH && !ctx.path.startsWith(`${QUEUE_DASHBOARD_PATH}/`)) return next();
    const id = ctx.cookies.get(SESSION_COOKIE);
    const session = id ? await opts.sessions.get(id) : undefined;
    if (!session)
      return refuse(
        ctx,
        401,
        'unauthorized',
        'sign in to the console as an admin first (/console/login), then open /admin/queues',
      );
    if (session.principal.role !== 'admin')
      return refuse(ctx, 403, 'role_forbidden', 'the queue dashboard is for console admins only');
    if (!SAFE_METHODS.has(ctx.method)) {
      const action = ctx.path.slice(QUEUE_DASHBOARD_PATH.length);
      if (ctx.get('Origin') !== origin)
        return refuse(
          ctx,
          403,
          'csrf_failed',
          `state-changing requests must come from the console's own pages (Origin ${origin})`,
        );
      if (!ctx.is('application/json') && ctx.request.length)
        return refuse(ctx, 415, 'unsupported_media_type', 'the dashboard accepts JSON requests only');
      if (readOnlyMode)
        return refuse(
          ctx,
          403,
          'dashboard_read_only',
          'the queue dashboard is read-only; set QUEUE_DASHBOARD=operate to allow retry, clean, promote, pause and resume',
        );
      if (!OPERATE_ACTIONS.some((re) => re.test(action)))
        return refuse(
          ctx,
          403,
          'dashboard_action_forbidden',
          'the dashboard never adds, edits or removes queues or jobs; use the admin API or the scripts in README "Operations"',
        );
    }
    ctx.set('Cache-Control', 'no-store');
    await board(ctx, next);
  };
}
