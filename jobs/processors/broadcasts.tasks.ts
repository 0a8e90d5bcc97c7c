import { dueBroadcasts } from '../../src/domain/broadcasts/broadcast-approval.js';
import { BroadcastModel } from '../../src/domain/broadcasts/broadcast.model.js';
import { pollBroadcast, remindAndEscalate, sendBroadcast, type BroadcastDeps } from '../../src/domain/broadcasts/broadcast.service.js';
import { taskSettingsOf } from '../../src/domain/tasks/task-settings.js';
import type { Logger } from '../../src/infra/logger.js';
import type { Queues } from '../../src/queues/queue-factory.js';
import { broadcastTickJob } from '../../src/queues/jobs/broadcasts.jobs.js';
import { toJobError } from '../../src/wecom/job-errors.js';
import type { WorkerContext } from '../context.js';
import type { MaintenanceTask } from './maintenance.processor.js';

/** Every 5 minutes: a broadcast starts at most 5 minutes late; WeCom is polled gently. */
export async function ensureBroadcastTickScheduler(queues: Queues): Promise<void> {
  await queues.get(broadcastTickJob.queue).upsertJobScheduler(broadcastTickJob.jobId({}), { every: 300_000 }, { name: broadcastTickJob.name, data: {} });
}

function depsFor(ctx: WorkerContext, corpId: string, log: Logger): BroadcastDeps | undefined {
  const corp = ctx.corps?.get(corpId);
  if (!corp || corp.kind === 'oem' || !corp.enabled) return undefined;
  return {
    corpId, api: ctx.wecom.forCorp({ corpId, secret: corp.secret, agentId: corp.agentId }), clock: ctx.clock, logger: log,
    timeZone: corp.timezone || ctx.config.defaultTimezone, quietHours: taskSettingsOf(corp).quietHours, publicBaseUrl: ctx.config.publicBaseUrl,
  };
}

/** The broadcasts' maintenance task. */
export const broadcastMaintenanceTasks: Record<string, MaintenanceTask> = {
  [broadcastTickJob.name]: async (job, log, ctx) => {
    broadcastTickJob.parse(job);
    const now = ctx.clock.now();
    let sent = 0;
    let polled = 0;
    try {
      for (const due of await dueBroadcasts(now)) {
        const deps = depsFor(ctx, due.corpId, log);
        if (deps && (await sendBroadcast(deps, due.id)).status === 'sent') sent++;
      }
      // Handed to advisors in the last 14 days: progress, reminders, escalation.
      const since = new Date(now.getTime() - 14 * 86_400_000);
      for (const b of await BroadcastModel.find({ status: 'sent', startedAt: { $gte: since } }, { corpId: 1 }).limit(200).lean()) {
        const deps = depsFor(ctx, b.corpId, log);
        if (!deps) continue;
        await pollBroadcast(deps, String(b._id));
        await remindAndEscalate(deps, String(b._id));
        polled++;
      }
    } catch (err) {
      throw toJobError(err);
    }
    return { sent, polled };
  },
};
