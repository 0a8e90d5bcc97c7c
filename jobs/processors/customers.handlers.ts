import { randomUUID } from 'node:crypto';
import { reconcileCheckpointKey, reconcileCorp } from '../../src/domain/customers/reconcile.service.js';
import { applyRetentionPolicy } from '../../src/domain/customers/retention-policy.js';
import { defaultRetentionSettings } from '../../src/domain/customers/retention-settings.js';
import { corpSchedulersJob, customersReconcileJob } from '../../src/queues/jobs/customers.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { installCorpSchedulers } from '../schedulers.js';
import { withScope } from '../scope.js';
import type { DomainEventHandler } from './domain-events.processor.js';

/**
 * The customers' jobs: the nightly reconciliation of one corp (which also refreshes the member
 * directory for corps without contact-sync callbacks) and the hourly re-install of the per-corp
 * job schedulers (jobs/schedulers.ts).
 */
export function customersJobs(ctx: WorkerContext, listCorpIds: () => string[]): JobEntry[] {
  return [
    on(customersReconcileJob, async ({ corpId }, job, log) => {
      return withScope(ctx, corpId, log, async (scope) => {
        const summary = await reconcileCorp(scope.customers(), {
          runId: job.id ?? randomUUID(),
          checkpoint: { redis: ctx.redis, key: reconcileCheckpointKey(ctx.config.redis.queuePrefix, corpId) },
        });
        log.info({ corpId, ...summary }, 'reconciliation finished');
        return summary;
      });
    }),
    on(corpSchedulersJob, async () => ({ installed: await installCorpSchedulers(ctx, listCorpIds()) })),
  ];
}

/**
 * Retained customers as a domain-event consumer: a linked vehicle, a delivery-channel add or an
 * owner tag makes the customer an owner and tags them in WeCom.
 */
export const retentionEventHandler: DomainEventHandler = {
  name: 'retention',
  async handle(event, scope, log) {
    const reason = await applyRetentionPolicy(
      scope.customers(log),
      scope.corp.retention ?? defaultRetentionSettings,
      event,
    );
    if (reason)
      log.info(
        { corpId: scope.corpId, customerId: event.customerId, reason },
        'customer is a retained customer (owner)',
      );
  },
};
