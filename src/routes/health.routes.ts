import Router from '@koa/router';
import type { Context } from 'koa';

/**
 * A dependency as /readyz sees it. `critical` ones make the process not ready when down;
 * the others are reported as `degraded` (the web stays ready without MongoDB, docs/architecture.md §3).
 */
export interface HealthCheck {
  name: string;
  critical: boolean;
  check: () => Promise<boolean | { ok: boolean; detail?: Record<string, unknown> }>;
}

export type DependencyState = 'up' | 'down' | 'degraded';

export interface Readiness {
  ready: boolean;
  dependencies: Record<string, { state: DependencyState } & Record<string, unknown>>;
}

/** Runs every check in parallel; a check that throws counts as down. */
export async function readiness(checks: readonly HealthCheck[]): Promise<Readiness> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        const outcome = await c.check();
        return typeof outcome === 'boolean' ? { ok: outcome } : outcome;
      } catch {
        return { ok: false };
      }
    }),
  );
  const dependencies: Readiness['dependencies'] = {};
  let ready = true;
  checks.forEach((c, i) => {
    const result = results[i] ?? { ok: false };
    const state: DependencyState = result.ok ? 'up' : c.critical ? 'down' : 'degraded';
    if (!result.ok && c.critical) ready = false;
    dependencies[c.name] = { state, ...(result.detail ?? {}) };
  });
  return { ready, dependencies };
}

/**
 * `/livez` answers while the event loop runs; `/readyz` says whether to send traffic here. The
 * dependency details (spool depth, corps, Redis state) go only to callers `showDetails` accepts
 * (src/middlewares/ops-access.ts); others get the status alone, with the same status code.
 */
export function createHealthRouter(
  checks: readonly HealthCheck[],
  opts: { showDetails?: (ctx: Context) => boolean } = {},
): Router {
  const router = new Router();
  router.get('/livez', function livez(ctx) {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async function readyz(ctx) {
    const result = await readiness(checks);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = result.ready ? 200 : 503;
    const status = result.ready ? 'ready' : 'not_ready';
    ctx.body = !opts.showDetails || opts.showDetails(ctx) ? { status, ...result } : { status };
  });
  return router;
}
