import { Types } from 'mongoose';
import { attributeAdd } from '../../src/domain/acquisition/channel-attribution.js';
import { reconcileChannels, syncChannel } from '../../src/domain/acquisition/channel-sync.js';
import { deliverLeadCard, deliverLeadCards, flushLeadCards } from '../../src/domain/acquisition/lead-card-pacing.js';
import { matchLeadOnAdd } from '../../src/domain/acquisition/lead-matching.js';
import { runLeadTick } from '../../src/domain/acquisition/lead-sla.js';
import { requestTeamRefresh } from '../../src/domain/acquisition/team-codes.js';
import { becomeOwner } from '../../src/domain/customers/owner.service.js';
import { defaultRetentionSettings } from '../../src/domain/customers/retention-settings.js';
import {
  channelSyncJob,
  channelsReconcileJob,
  leadCardFlushJob,
  leadCardJob,
  leadCardsJob,
  leadsTickJob,
  teamCodeRefreshJob,
} from '../../src/queues/jobs/acquisition.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { activeScopes, withScope } from '../scope.js';
import type { DomainEventHandler } from './domain-events.processor.js';

/**
 * Channels and leads (docs/acquisition.md): WeCom contact-way sync per channel revision, team-code
 * member refreshes and lead cards on `scheduled`; the leads' minute tick and the hourly channel
 * reconciliation on `maintenance`, over every dealer corp that runs background work.
 */
export function acquisitionJobs(ctx: WorkerContext, listCorpIds: () => string[]): JobEntry[] {
  return [
    on(channelSyncJob, async ({ corpId, channelId }, _job, log) => {
      return withScope(ctx, corpId, log, async (scope) => ({
        outcome: await syncChannel(scope.tasks(log), channelId),
      }));
    }),
    on(teamCodeRefreshJob, async ({ corpId, channelId }, _job, log) => {
      return withScope(ctx, corpId, log, async (scope) => ({
        outcome: await syncChannel(scope.tasks(log), channelId),
      }));
    }),
    on(leadCardJob, async ({ corpId, leadId, assignment }, _job, log) => {
      return withScope(ctx, corpId, log, async (scope) => ({
        outcome: await deliverLeadCard(scope.tasks(log), leadId, assignment),
      }));
    }),
    on(leadCardsJob, async ({ corpId, advisorUserid, leads }, _job, log) => {
      return withScope(ctx, corpId, log, async (scope) => ({
        outcome: await deliverLeadCards(scope.tasks(log), advisorUserid, leads),
      }));
    }),
    on(leadCardFlushJob, async ({ corpId, advisorUserid }, _job, log) => {
      return withScope(ctx, corpId, log, async (scope) => flushLeadCards(scope.tasks(log), advisorUserid));
    }),
    on(leadsTickJob, async (_data, _job, log) => {
      const out: Record<string, unknown> = {};
      for (const scope of activeScopes(ctx, listCorpIds(), log))
        out[scope.corpId] = await runLeadTick(scope.tasks(log));
      return out;
    }),
    on(channelsReconcileJob, async (_data, _job, log) => {
      const out: Record<string, unknown> = {};
      for (const scope of activeScopes(ctx, listCorpIds(), log))
        out[scope.corpId] = await reconcileChannels(scope.tasks(log));
      return out;
    }),
  ];
}

/**
 * Channels and leads as a domain-event consumer (after the retention policy): an add is
 * attributed to its channel and matched to a lead; a won lead makes its customer an owner; a
 * change of open leads re-computes the team codes of that advisor.
 */
export function acquisitionEventHandler(ctx: Pick<WorkerContext, 'queues' | 'clock' | 'tuning'>): DomainEventHandler {
  return {
    name: 'acquisition',
    async handle(event, scope, log) {
      const outbox = { corpId: event.corpId, queues: ctx.queues, logger: log, clock: ctx.clock };
      if (event.type === 'customer.added') {
        const attribution = await attributeAdd({ ...outbox, reads: scope.customers(log).reads }, event);
        const leadId = await matchLeadOnAdd(
          outbox,
          event,
          attribution ? { channel: attribution.unknown ? null : { kind: attribution.kind } } : {},
        );
        if (attribution || leadId)
          log.info(
            { corpId: event.corpId, channelId: attribution?.channelId, unknownState: attribution?.unknown, leadId },
            'add attributed',
          );
        return;
      }
      if (event.type !== 'lead.created' && event.type !== 'lead.stage_changed') return;
      if (event.userid) await requestTeamRefresh(ctx, event.corpId, event.userid);
      if (
        event.type === 'lead.stage_changed' &&
        event.data.outcome === 'won' &&
        event.customerId &&
        Types.ObjectId.isValid(event.customerId)
      ) {
        await becomeOwner(scope.customers(log), scope.corp.retention ?? defaultRetentionSettings, {
          customerId: new Types.ObjectId(event.customerId),
          reason: 'lead_won',
          sourceId: `lead-won-${String(event.data.leadId)}`,
          at: new Date(event.occurredAt),
        });
      }
    },
  };
}
