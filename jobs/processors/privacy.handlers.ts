import { cancelPendingMessagesFor } from '../../src/domain/messages/message.service.js';
import { defaultPrivacySettings } from '../../src/domain/privacy/privacy-settings.js';
import { runRetentionSweep } from '../../src/domain/privacy/retention-sweep.js';
import { privacyCancelPendingJob, retentionSweepJob } from '../../src/queues/jobs/privacy.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { withScope } from '../scope.js';

/**
 * The personal-data jobs: the daily retention sweep per corp (erases customers whose last
 * relationship ended more than `privacy.retentionDays` ago) and the cancellation of a customer's
 * WeCom mass-send tasks after an opt-out or an erasure. Both are privacy duties: they run for a
 * disabled corp too (docs/architecture.md §11, "One corp scope").
 */
export function privacyJobs(ctx: WorkerContext): JobEntry[] {
  return [
    on(retentionSweepJob, async ({ corpId }, _job, log) => {
      return withScope(
        ctx,
        corpId,
        log,
        (scope) =>
          runRetentionSweep(
            { queues: ctx.queues, clock: ctx.clock, hasher: ctx.pd.hasher, cipher: ctx.pd.cipher, logger: log },
            { corpId, retentionDays: (scope.corp.privacy ?? defaultPrivacySettings).retentionDays },
          ),
        { privacyDuty: true },
      );
    }),
    on(privacyCancelPendingJob, async ({ corpId, customerId }, _job, log) => {
      return withScope(
        ctx,
        corpId,
        log,
        async (scope) => ({ cancelled: await cancelPendingMessagesFor(scope.engine(), customerId) }),
        { privacyDuty: true },
      );
    }),
  ];
}
