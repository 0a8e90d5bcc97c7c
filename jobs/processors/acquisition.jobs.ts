import { Types } from 'mongoose';
import { z } from 'zod';
import { attributeAdd } from '../../src/domain/acquisition/channel-attribution.js';
import { reconcileChannels, syncChannel } from '../../src/domain/acquisition/channel-sync.js';
import { sendLeadCard } from '../../src/domain/acquisition/lead-card.js';
import { matchLeadOnAdd } from '../../src/domain/acquisition/lead-matching.js';
import { runLeadTick } from '../../src/domain/acquisition/lead-sla.js';
import { requestTeamRefresh } from '../../src/domain/acquisition/team-codes.js';
import { becomeOwner } from '../../src/domain/customers/owner.service.js';
import { defaultRetentionSettings } from '../../src/domain/customers/retention-settings.js';
import { buildTaskDeps, type TaskDeps } from '../../src/domain/tasks/task-deps.js';
import type { Logger } from '../../src/infra/logger.js';
import { defineJob } from '../../src/queues/job-contract.js';
import { channelSyncJob, leadCardJob, teamCodeRefreshJob } from '../../src/queues/jobs/acquisition.jobs.js';
import type { Queues } from '../../src/queues/queue-factory.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { toJobError } from '../../src/wecom/job-errors.js';
import type { WorkerContext } from '../context.js';
import type { DomainEventHandler } from './domain-event-handlers.js';
import type { MaintenanceTask } from './maintenance.processor.js';
import type { ScheduledJobHandler } from './scheduled.processor.js';

/** The minute tick of leads (waiting leads routed, the SLA ladder) for every dealer corp. */
export const leadsTickJob = defineJob({ queue: QueueName.maintenance, name: 'leads-tick', schema: z.object({}).passthrough(), jobId: () => 'leads-tick' });
/** Hourly: channel codes read back from WeCom (docs/acquisition.md "Reconciliation"). */
export const channelsReconcileJob = defineJob({ queue: QueueName.maintenance, name: 'channels-reconcile', schema: z.object({}).passthrough(), jobId: () => 'channels-reconcile' });

function requireDeps(ctx: WorkerContext, corpId: string, log: Logger): TaskDeps {
  const deps = buildTaskDeps(ctx.corps?.get(corpId), { ...ctx, logger: log });
  if (!deps) throw new Error(`corp ${corpId} is not loaded (or not a dealer corp); the job is retried`);
  return deps;
}

/** Named jobs of channels and leads on the `scheduled` queue. */
export const acquisitionScheduledJobs: Record<string, ScheduledJobHandler> = {
  [channelSyncJob.name]: async (job, ctx, log) => {
    const data = channelSyncJob.parse(job);
    try {
      return { outcome: await syncChannel(requireDeps(ctx, data.corpId, log), data.channelId) };
    } catch (err) {
      throw toJobError(err);
    }
  },
  [teamCodeRefreshJob.name]: async (job, ctx, log) => {
    const data = teamCodeRefreshJob.parse(job);
    try {
      return { outcome: await syncChannel(requireDeps(ctx, data.corpId, log), data.channelId) };
    } catch (err) {
      throw toJobError(err);
    }
  },
  [leadCardJob.name]: async (job, ctx, log) => {
    const data = leadCardJob.parse(job);
    try {
      const deps = requireDeps(ctx, data.corpId, log);
      const outcome = await sendLeadCard(deps, data.leadId, data.assignment);
      return { outcome };
    } catch (err) {
      throw toJobError(err);
    }
  },
};

/** Maintenance tasks: the leads' minute tick and the hourly channel reconciliation, for every dealer corp. */
export function acquisitionMaintenanceTasks(listCorpIds: () => string[]): Record<string, MaintenanceTask> {
  const each = async <T>(ctx: WorkerContext, log: Logger, run: (deps: TaskDeps) => Promise<T>) => {
    const out: Record<string, T> = {};
    for (const corpId of listCorpIds()) {
      const deps = buildTaskDeps(ctx.corps?.get(corpId), { ...ctx, logger: log });
      if (deps) out[corpId] = await run(deps);
    }
    return out;
  };
  return {
    [leadsTickJob.name]: async (job, log, ctx) => {
      leadsTickJob.parse(job);
      try {
        return await each(ctx, log, runLeadTick);
      } catch (err) {
        throw toJobError(err);
      }
    },
    [channelsReconcileJob.name]: async (job, log, ctx) => {
      channelsReconcileJob.parse(job);
      try {
        return await each(ctx, log, reconcileChannels);
      } catch (err) {
        throw toJobError(err);
      }
    },
  };
}

/** Installs the leads' minute tick and the hourly channel reconciliation (idempotent; one per cluster). */
export async function ensureAcquisitionSchedulers(queues: Queues): Promise<void> {
  const q = queues.get(QueueName.maintenance);
  await q.upsertJobScheduler('leads-tick-every-minute', { every: 60_000 }, { name: leadsTickJob.name, data: {} });
  await q.upsertJobScheduler('channels-reconcile-hourly', { pattern: '23 * * * *' }, { name: channelsReconcileJob.name, data: {} });
}

/**
 * Channels and leads as a domain-event consumer (after the retention policy): an add is
 * attributed to its channel and matched to a lead; a won lead makes its customer an owner; a
 * change of open leads re-computes the team codes of that advisor.
 */
export const acquisitionEventHandler: DomainEventHandler = {
  name: 'acquisition',
  async handle(event, ctx, log) {
    const corp = ctx.corps?.get(event.corpId);
    if (!corp || corp.kind === 'oem') return;
    const outbox = { corpId: event.corpId, queues: ctx.queues, logger: log, clock: ctx.clock };
    if (event.type === 'customer.added') {
      const attribution = await attributeAdd(outbox, event);
      const leadId = await matchLeadOnAdd(outbox, event);
      if (attribution || leadId) log.info({ corpId: event.corpId, channelId: attribution?.channelId, unknownState: attribution?.unknown, leadId }, 'add attributed');
      return;
    }
    if (event.type === 'lead.created' || event.type === 'lead.stage_changed') {
      if (event.userid) await requestTeamRefresh(ctx, event.corpId, event.userid);
      if (event.type === 'lead.stage_changed' && event.data.outcome === 'won' && event.customerId && Types.ObjectId.isValid(event.customerId)) {
        const deps = requireDeps(ctx, event.corpId, log);
        await becomeOwner(
          { corpId: corp.corpId, api: deps.api, pd: ctx.pd, clock: ctx.clock, queues: ctx.queues, logger: log },
          corp.retention ?? defaultRetentionSettings,
          { customerId: new Types.ObjectId(event.customerId), reason: 'lead_won', sourceId: `lead-won-${String(event.data.leadId)}`, at: new Date(event.occurredAt) },
        );
      }
    }
  },
};
