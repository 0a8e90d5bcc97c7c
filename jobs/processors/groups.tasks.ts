import { UnrecoverableError } from 'bullmq';
import { reconcileGroups } from '../../src/domain/groups/group-refresh.service.js';
import { syncGroupWelcomeTemplate } from '../../src/domain/groups/group-welcome.service.js';
import type { Queues } from '../../src/queues/queue-factory.js';
import { groupWelcomeSyncJob, groupsReconcileJob } from '../../src/queues/jobs/groups.jobs.js';
import { toJobError } from '../../src/wecom/job-errors.js';
import type { WorkerContext } from '../context.js';
import type { MaintenanceTask } from './maintenance.processor.js';

/** Nightly at 03:30 corp time, after the customers' reconciliation (03:00). */
const NIGHTLY = '30 3 * * *';

/** One job scheduler per dealer corp for the groups' nightly reconciliation. */
export async function ensureGroupsReconcileScheduler(queues: Queues, corpId: string, timezone: string): Promise<void> {
  const data = groupsReconcileJob.schema.parse({ corpId });
  await queues.get(groupsReconcileJob.queue).upsertJobScheduler(groupsReconcileJob.jobId(data), { pattern: NIGHTLY, tz: timezone }, { name: groupsReconcileJob.name, data });
}

function apiFor(ctx: WorkerContext, corpId: string) {
  const corp = ctx.corps?.get(corpId);
  if (!corp) throw new UnrecoverableError(`corp ${corpId} is not configured`);
  return ctx.wecom.forCorp({ corpId, secret: corp.secret, agentId: corp.agentId });
}

/** The customer groups' maintenance tasks: nightly reconciliation, welcome-template sync. */
export const groupMaintenanceTasks: Record<string, MaintenanceTask> = {
  [groupsReconcileJob.name]: async (job, log, ctx) => {
    const { corpId } = groupsReconcileJob.parse(job);
    try {
      const summary = await reconcileGroups({ corpId, api: apiFor(ctx, corpId), clock: ctx.clock, logger: log });
      log.info({ corpId, ...summary }, 'customer groups reconciled');
      return summary;
    } catch (err) {
      throw toJobError(err);
    }
  },
  [groupWelcomeSyncJob.name]: async (job, log, ctx) => {
    const { corpId, templateId, revision } = groupWelcomeSyncJob.parse(job);
    try {
      return await syncGroupWelcomeTemplate({ corpId, api: apiFor(ctx, corpId), clock: ctx.clock, logger: log }, templateId, revision);
    } catch (err) {
      throw toJobError(err);
    }
  },
};
