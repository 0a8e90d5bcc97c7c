import Router from '@koa/router';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { runSweepExclusive } from '../../domain/schedules/sweep.js';
import { principalOf } from '../../middlewares/auth.js';
import { requireRoles } from '../../middlewares/authorize.js';
import { ForbiddenError } from '../../middlewares/errors.js';
import type { ApiDeps } from './api-deps.js';

/**
 * `POST /api/v1/ops/sweep` (admins, not in production): runs the schedule sweep now, with the
 * shared clock, so tests and demos need not wait for the minute (design §6).
 */
export function createOpsApiRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.post('/ops/sweep', requireRoles('admin'), async function sweepNow(ctx) {
    if (deps.config.isProduction) throw new ForbiddenError('on-demand sweeps are a development and test feature; production runs the minute scheduler only', 'production_refused');
    const result = await runSweepExclusive(deps.redis, deps.config.redis.queuePrefix, { queues: deps.queues, now: deps.clock.now() });
    await recordAudit({ actor: principalOf(ctx), action: 'ops.sweep', target: { type: 'schedules' }, requestId: ctx.state.reqId as string | undefined, at: deps.clock.now() });
    ctx.body = result;
  });
  return router;
}
