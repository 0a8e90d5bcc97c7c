import Router from '@koa/router';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { Context, Middleware, Next } from 'koa';
import type { Registry } from 'prom-client';
import { createBootstrapAdminAuth } from '../middlewares/admin-auth.js';

/** `GET /metrics`: Prometheus text from the registry passed in (never prom-client's global one). */
export function createMetricsRouter(registry: Registry): Router {
  const router = new Router();
  router.get('/metrics', async function metrics(ctx) {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return router;
}

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * The BullMQ dashboard (@bull-board/koa) at /admin/queues behind the bootstrap admin token.
 * Auth runs before the dashboard sees the request; other paths pass through untouched.
 */
export function createQueueDashboard(queues: readonly Queue[], adminToken: string | undefined): Middleware {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  const board = serverAdapter.registerPlugin();
  const auth = createBootstrapAdminAuth(adminToken);
  return async function queueDashboard(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== QUEUE_DASHBOARD_PATH && !ctx.path.startsWith(`${QUEUE_DASHBOARD_PATH}/`)) return next();
    await auth(ctx, () => board(ctx, next) as Promise<void>);
  };
}
