import { reconcileGroups } from '../../src/domain/groups/group-refresh.service.js';
import { syncGroupWelcomeTemplate } from '../../src/domain/groups/group-welcome.service.js';
import { groupWelcomeSyncJob, groupsReconcileJob } from '../../src/queues/jobs/groups.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { withScope } from '../scope.js';

/** The customer groups' maintenance jobs (docs/engagement.md): nightly reconciliation, welcome-template sync. */
export function groupsJobs(ctx: WorkerContext): JobEntry[] {
  return [
    on(groupsReconcileJob, async ({ corpId }, _job, log) => {
      return withScope(ctx, corpId, log, async (scope) => {
        const summary = await reconcileGroups({ corpId, api: scope.api, clock: ctx.clock, logger: log });
        log.info({ corpId, ...summary }, 'customer groups reconciled');
        return summary;
      });
    }),
    on(groupWelcomeSyncJob, async ({ corpId, templateId, revision }, _job, log) => {
      return withScope(ctx, corpId, log, (scope) =>
        syncGroupWelcomeTemplate({ corpId, api: scope.api, clock: ctx.clock, logger: log }, templateId, revision),
      );
    }),
  ];
}
