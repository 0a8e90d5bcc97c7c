import Router from '@koa/router';
import { z } from 'zod';
import { taskKpis } from '../../domain/tasks/kpi.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp, requireRoles } from '../../middlewares/authorize.js';
import { parseOrThrow } from '../../middlewares/validate.js';
import type { ApiDeps } from './api-deps.js';
import { managedAdvisors } from './task-scope.js';

const isoDate = z.iso.datetime({ offset: true, error: 'use an ISO date-time like 2026-06-01T00:00:00+08:00' });
const kpiQuery = z.object({ corpId: z.string().min(1).max(64), from: isoDate, to: isoDate, advisor: z.string().min(1).max(64).optional() })
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), { error: 'from must be before to', path: ['to'] });

/**
 * `GET /api/v1/kpis/tasks?corpId&from&to[&advisor]` (issue 8): per corp and advisor, tasks due,
 * done on time (done ≤ due + SLA), done late, overdue open, escalated, median time to completion.
 * Managers see their departments, advisors themselves.
 */
export function createKpisRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.get('/kpis/tasks', requireRoles('admin', 'oem', 'dealer_admin', 'manager', 'advisor'), async function taskKpiRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(kpiQuery, ctx.query);
    assertCorp(p, q.corpId, 'read');
    let advisors: string[] | undefined = q.advisor ? [q.advisor] : undefined;
    if (p.role === 'advisor') advisors = [p.userid ?? '\u0000'];
    if (p.role === 'manager') {
      const mine = await managedAdvisors(p);
      advisors = advisors ? advisors.filter((a) => mine.includes(a)) : mine;
    }
    ctx.body = { corpId: q.corpId, from: q.from, to: q.to, ...(await taskKpis({ corpId: q.corpId, from: new Date(q.from), to: new Date(q.to), advisors }, deps.clock.now())) };
  });
  return router;
}
