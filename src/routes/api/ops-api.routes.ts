import type Koa from 'koa';
import Router from '@koa/router';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { runSweepExclusive } from '../../domain/schedules/sweep.js';
import { principalOf } from '../../middlewares/auth.js';
import { z } from 'zod';
import { clockOffsetKey, setSharedClockOffset, SharedOffsetClock } from '../../infra/clock.js';
import { ForbiddenError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import type { JobContract } from '../../queues/job-contract.js';
import { broadcastTickJob, momentTickJob } from '../../queues/jobs/broadcasts.jobs.js';
import { kpiTickJob } from '../../queues/jobs/kpis.jobs.js';
import { taskTickJob } from '../../queues/jobs/tasks.jobs.js';
import type { ApiDeps } from './api-deps.js';

const clockBody = z
  .object({
    /** Milliseconds ahead of real time (replaces the offset). */
    offsetMs: z
      .number()
      .int()
      .min(0)
      .max(10 * 365 * 24 * 3600 * 1000)
      .optional(),
    /** Milliseconds to move forward from the current offset. */
    advanceMs: z
      .number()
      .int()
      .min(0)
      .max(365 * 24 * 3600 * 1000)
      .optional(),
  })
  .strict()
  .refine((b) => (b.offsetMs === undefined) !== (b.advanceMs === undefined), {
    error: 'send either offsetMs or advanceMs',
  });

/**
 * Development and test operations under `/api/v1/ops` (admins only, refused in production,
 * docs/architecture.md §6): run the schedule sweep, the task tick, the cockpit rollup or the
 * broadcast and Moments ticks now instead of waiting for their schedule, and move the clock shared
 * by web, worker and the WeCom sandbox.
 */
export function createOpsApiRouter(deps: ApiDeps): Router {
  const router = new Router();
  const refuseInProduction = (what: string) => {
    if (deps.config.isProduction)
      throw new ForbiddenError(
        `${what} is a development and test feature; production refuses it`,
        'production_refused',
      );
  };
  router.post('/ops/sweep', async function sweepNow(ctx) {
    refuseInProduction('an on-demand sweep');
    const result = await runSweepExclusive(deps.redis, deps.config.redis.queuePrefix, {
      queues: deps.queues,
      now: deps.clock.now(),
    });
    await recordAudit({
      actor: principalOf(ctx),
      action: 'ops.sweep',
      target: { type: 'schedules' },
      requestId: ctx.state.reqId as string | undefined,
      at: deps.clock.now(),
    });
    ctx.body = result;
  });
  /** Enqueues one maintenance job now (it runs in the worker, which calls WeCom) and audits who asked. */
  const enqueueNow = (
    contract: JobContract<typeof taskTickJob.schema>,
    idPrefix: string,
    action: string,
    target: string,
    what: string,
  ) =>
    async function maintenanceNow(ctx: Koa.Context) {
      refuseInProduction(what);
      const job = await contract.enqueue(
        deps.queues,
        {},
        { jobId: `${idPrefix}-now-${deps.clock.nowMs()}-${ctx.state.reqId as string}` },
      );
      await recordAudit({
        actor: principalOf(ctx),
        action,
        target: { type: target },
        requestId: ctx.state.reqId as string | undefined,
        at: deps.clock.now(),
      });
      ctx.status = 202;
      ctx.body = { jobId: job.id };
    };
  /** The task tick: reminders, escalations, owed cards, transfer polls. */
  router.post('/ops/tick', enqueueNow(taskTickJob, 'tasks-tick', 'ops.tick', 'tasks', 'an on-demand task tick'));
  /** The cockpit tick (rollups of today and the settle window), so the demo's numbers show at once. */
  router.post('/ops/kpis', enqueueNow(kpiTickJob, 'kpis-tick', 'ops.kpis', 'kpis', 'an on-demand cockpit tick'));
  /** The broadcast tick (every 5 minutes otherwise): sends approved broadcasts now due, polls WeCom's progress. */
  router.post(
    '/ops/broadcasts',
    enqueueNow(broadcastTickJob, 'broadcast-tick', 'ops.broadcasts', 'broadcasts', 'an on-demand broadcast tick'),
  );
  /** The Moments tick (every 10 minutes otherwise): learns created tasks' ids, records who published. */
  router.post(
    '/ops/moments',
    enqueueNow(momentTickJob, 'moment-tick', 'ops.moments', 'moments', 'an on-demand Moments tick'),
  );
  router.get('/ops/clock', async function readClock(ctx) {
    const offsetMs = Number((await deps.redis.get(clockOffsetKey(deps.config.redis.queuePrefix))) ?? 0);
    ctx.body = { now: deps.clock.now().toISOString(), offsetMs };
  });
  router.post('/ops/clock', async function moveClock(ctx) {
    refuseInProduction('moving the clock');
    const body = parseOrThrow(clockBody, (ctx.request as unknown as { body?: unknown }).body ?? {});
    const current = Number((await deps.redis.get(clockOffsetKey(deps.config.redis.queuePrefix))) ?? 0);
    const offsetMs = body.offsetMs ?? current + (body.advanceMs ?? 0);
    await setSharedClockOffset(deps.redis, deps.config.redis.queuePrefix, offsetMs, deps.config.isProduction);
    // This process follows at once; the worker and the sandbox pick it up within a second.
    if (deps.clock instanceof SharedOffsetClock) await deps.clock.refresh();
    await recordAudit({
      actor: principalOf(ctx),
      action: 'ops.clock',
      target: { type: 'clock', id: String(offsetMs) },
      requestId: ctx.state.reqId as string | undefined,
      at: new Date(),
    });
    ctx.body = { offsetMs, now: new Date(Date.now() + offsetMs).toISOString() };
  });
  return router;
}
