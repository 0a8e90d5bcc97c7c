import { dueBroadcasts } from '../../src/domain/broadcasts/broadcast-approval.js';
import { BroadcastModel } from '../../src/domain/broadcasts/broadcast.model.js';
import { pollBroadcast, remindAndEscalate, sendBroadcast, type BroadcastDeps } from '../../src/domain/broadcasts/broadcast.service.js';
import type { CorpScope } from '../../src/domain/corps/corp-scope.js';
import { taskSettingsOf } from '../../src/domain/tasks/task-settings.js';
import type { Logger } from '../../src/infra/logger.js';
import { broadcastTickJob } from '../../src/queues/jobs/broadcasts.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { scopeFor } from '../scope.js';

function broadcastDeps(ctx: WorkerContext, scope: CorpScope, log: Logger): BroadcastDeps {
  return {
    corpId: scope.corpId, api: scope.api, clock: ctx.clock, logger: log,
    timeZone: scope.timeZone, quietHours: taskSettingsOf(scope.corp).quietHours, publicBaseUrl: ctx.config.publicBaseUrl,
  };
}

/**
 * The broadcasts' tick (docs/engagement.md): sends approved broadcasts whose time came, then
 * polls, reminds and escalates those handed to advisors in the last 14 days. Broadcasts of a
 * car-maker, disabled or unknown corp wait (the corp scope's policy).
 */
export function broadcastsJobs(ctx: WorkerContext): JobEntry[] {
  return [
    on(broadcastTickJob, async (_data, _job, log) => {
      const now = ctx.clock.now();
      const depsOf = (corpId: string) => {
        const found = scopeFor(ctx, corpId, log);
        return found.ok ? broadcastDeps(ctx, found.scope, log) : undefined;
      };
      let sent = 0;
      let polled = 0;
      for (const due of await dueBroadcasts(now)) {
        const deps = depsOf(due.corpId);
        if (deps && (await sendBroadcast(deps, due.id)).status === 'sent') sent++;
      }
      const since = new Date(now.getTime() - 14 * 86_400_000);
      for (const b of await BroadcastModel.find({ status: 'sent', startedAt: { $gte: since } }, { corpId: 1 }).limit(200).lean()) {
        const deps = depsOf(b.corpId);
        if (!deps) continue;
        await pollBroadcast(deps, String(b._id));
        await remindAndEscalate(deps, String(b._id));
        polled++;
      }
      return { sent, polled };
    }),
  ];
}
