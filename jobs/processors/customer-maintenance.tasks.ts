import { randomUUID } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { reconcileCheckpointKey, reconcileCorp } from '../../src/domain/customers/reconcile.service.js';
import type { Queues } from '../../src/queues/queue-factory.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { toJobError } from '../../src/wecom/job-errors.js';
import type { WorkerContext } from '../context.js';
import type { MaintenanceTask } from './maintenance.processor.js';
import { ensureGroupsReconcileScheduler } from './groups.tasks.js';
import { ensureRetentionSweepScheduler } from './privacy.tasks.js';

export const RECONCILE_TASK = 'customers-reconcile';
export const CORP_SCHEDULERS_TASK = 'corp-schedulers';

/** Nightly, at 03:00 in each corp's own time zone (quiet for WeCom and for people). */
const NIGHTLY = '0 3 * * *';

/**
 * One job scheduler per dealer corp for the nightly reconciliation (which also refreshes the
 * member directory for corps without contact-sync callbacks) and one for the daily retention sweep. Idempotent; re-run hourly so new
 * corps and changed time zones are picked up without a restart.
 */
export async function ensureCorpSchedulers(ctx: Pick<WorkerContext, 'queues' | 'corps'>, corpIds: readonly string[]): Promise<number> {
  let installed = 0;
  for (const corpId of corpIds) {
    const corp = ctx.corps?.get(corpId);
    if (!corp || corp.kind === 'oem' || !corp.enabled) continue;
    await ctx.queues.get(QueueName.maintenance).upsertJobScheduler(`reconcile-${corpId}`, { pattern: NIGHTLY, tz: corp.timezone }, { name: RECONCILE_TASK, data: { corpId } });
    await ensureRetentionSweepScheduler(ctx.queues, corpId, corp.timezone);
    await ensureGroupsReconcileScheduler(ctx.queues, corpId, corp.timezone);
    installed++;
  }
  return installed;
}

/** Installs the hourly re-check of the per-corp schedulers (one for the cluster). */
export async function ensureCorpSchedulersScheduler(queues: Queues): Promise<void> {
  await queues.get(QueueName.maintenance).upsertJobScheduler('corp-schedulers', { pattern: '7 * * * *' }, { name: CORP_SCHEDULERS_TASK, data: {} });
}

/** Maintenance tasks of the customers issue: nightly reconciliation per corp. */
export function customerMaintenanceTasks(listCorpIds: () => string[]): Record<string, MaintenanceTask> {
  return {
    [RECONCILE_TASK]: async (job, log, ctx) => {
      const { corpId } = z.object({ corpId: z.string().min(1) }).parse(job.data);
      const corp = ctx.corps?.get(corpId);
      if (!corp) throw new UnrecoverableError(`corp ${corpId} is not configured`);
      try {
        const summary = await reconcileCorp(
          { corpId, api: ctx.wecom.forCorp({ corpId, secret: corp.secret, agentId: corp.agentId }), pd: ctx.pd, clock: ctx.clock, queues: ctx.queues, logger: log },
          { runId: job.id ?? randomUUID(), checkpoint: { redis: ctx.redis, key: reconcileCheckpointKey(ctx.config.redis.queuePrefix, corpId) } },
        );
        log.info({ corpId, ...summary }, 'reconciliation finished');
        return summary;
      } catch (err) {
        throw toJobError(err);
      }
    },
    [CORP_SCHEDULERS_TASK]: async (_job, _log, ctx) => ({ installed: await ensureCorpSchedulers(ctx, listCorpIds()) }),
  };
}
