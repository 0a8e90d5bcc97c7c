import { dueBroadcasts } from '../../src/domain/broadcasts/broadcast-approval.js';
import { remindUnconfirmed } from '../../src/domain/broadcasts/broadcast-confirm.js';
import { BroadcastModel } from '../../src/domain/broadcasts/broadcast.model.js';
import {
  cancelOpenTasks,
  pollBroadcast,
  sendBroadcast,
  type BroadcastDeps,
} from '../../src/domain/broadcasts/broadcast.service.js';
import type { CorpScope } from '../../src/domain/corps/corp-scope.js';
import { taskSettingsOf } from '../../src/domain/tasks/task-settings.js';
import type { Logger } from '../../src/infra/logger.js';
import {
  openMomentTasks,
  startMomentTask,
  trackMomentTask,
  type MomentDeps,
} from '../../src/domain/moments/moment-tasks.js';
import {
  broadcastCancelJob,
  broadcastTickJob,
  momentCreateJob,
  momentTickJob,
} from '../../src/queues/jobs/broadcasts.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { activeScopes, isSkipped, jobScope } from '../scope.js';

function broadcastDeps(ctx: WorkerContext, scope: CorpScope, log: Logger): BroadcastDeps {
  return {
    corpId: scope.corpId,
    api: scope.api,
    clock: ctx.clock,
    logger: log,
    timeZone: scope.timeZone,
    quietHours: taskSettingsOf(scope.corp).quietHours,
    publicBaseUrl: ctx.config.publicBaseUrl,
    tasks: scope.tasks(log),
  };
}

function momentDeps(ctx: WorkerContext, scope: CorpScope, log: Logger): MomentDeps {
  return { corpId: scope.corpId, api: scope.api, clock: ctx.clock, logger: log };
}

/**
 * The broadcasts' tick (docs/engagement.md): sends approved broadcasts whose time came, then
 * polls those handed to advisors in the last 14 days and reminds the advisors who have not confirmed
 * (each gets a follow-up task the task ladder escalates), corp by corp;
 * broadcasts of a car-maker, disabled or unknown corp wait (the corp scope's policy). Also the
 * broadcast cancel job, and the Moments tasks' creation and tracking (docs/engagement.md).
 */
export function broadcastsJobs(ctx: WorkerContext, listCorpIds: () => string[]): JobEntry[] {
  return [
    on(broadcastTickJob, async (_data, _job, log) => {
      const now = ctx.clock.now();
      const since = new Date(now.getTime() - 14 * 86_400_000);
      let sent = 0;
      let polled = 0;
      // Per corp, so every query carries corpId (docs/scale.md, "Queries without corpId").
      for (const scope of activeScopes(ctx, listCorpIds(), log)) {
        const deps = broadcastDeps(ctx, scope, log);
        for (const due of await dueBroadcasts(scope.corpId, now)) {
          if ((await sendBroadcast(deps, due.id)).status === 'sent') sent++;
        }
        for (const b of await BroadcastModel.find(
          { corpId: scope.corpId, status: 'sent', startedAt: { $gte: since } },
          { _id: 1 },
        )
          .limit(200)
          .lean()) {
          await pollBroadcast(deps, String(b._id));
          await remindUnconfirmed(deps, String(b._id));
          polled++;
        }
      }
      return { sent, polled };
    }),
    on(broadcastCancelJob, async ({ corpId, broadcastId }, _job, log) => {
      const scope = jobScope(ctx, corpId, log);
      if (isSkipped(scope)) return scope;
      return cancelOpenTasks(broadcastDeps(ctx, scope, log), broadcastId);
    }),
    on(momentCreateJob, async ({ corpId, momentTaskId }, _job, log) => {
      const scope = jobScope(ctx, corpId, log);
      if (isSkipped(scope)) return scope;
      return startMomentTask(momentDeps(ctx, scope, log), momentTaskId);
    }),
    on(momentTickJob, async (_data, _job, log) => {
      let tracked = 0;
      for (const scope of activeScopes(ctx, listCorpIds(), log)) {
        const deps = momentDeps(ctx, scope, log);
        for (const id of await openMomentTasks(scope.corpId)) {
          await trackMomentTask(deps, id);
          tracked++;
        }
      }
      return { tracked };
    }),
  ];
}
