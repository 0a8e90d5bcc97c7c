import { dayjs } from '../../infra/clock.js';
import { leadCardJob } from '../../queues/jobs/acquisition.jobs.js';
import type { TaskDeps } from '../tasks/task-deps.js';
import { inWorkingHours } from '../tasks/working-hours.js';
import { loadAcquisitionSettings, type AcquisitionSettings } from './acquisition-settings.js';
import { reassignLead } from './lead-actions.js';
import { deliverLeadEscalation, deliverLeadReminder } from './lead-card-pacing.js';
import { leadersOf } from '../customers/advisor-directory.service.js';
import { adjustLeadCount, ensureLeadCounters } from './lead-counters.js';
import { routeLead, type RoutingContext } from './lead-routing.js';
import { LeadModel, type LeadLean } from './lead.model.js';

export interface LeadTickSummary {
  routed: number;
  reminded: number;
  escalated: number;
  reassigned: number;
}

function routingContext(deps: TaskDeps, settings: AcquisitionSettings): RoutingContext {
  return {
    corpId: deps.corpId,
    timeZone: deps.timeZone,
    workingHours: deps.settings.workingHours,
    settings,
    queues: deps.queues,
  };
}

/** Leads that waited (outside hours, nobody eligible) and are due for another routing attempt. */
async function routeWaiting(deps: TaskDeps, ctx: RoutingContext): Promise<number> {
  const now = deps.clock.now();
  const due = (await LeadModel.find({
    corpId: deps.corpId,
    advisorUserid: { $exists: false },
    outcome: { $exists: false },
    routeAt: { $lte: now },
  })
    .sort({ routeAt: 1 })
    .limit(500)
    .lean()) as LeadLean[];
  let routed = 0;
  for (const lead of due) {
    const decision = await routeLead(ctx, { source: lead.source as never, model: lead.model }, now);
    if (decision.kind === 'waiting') {
      await LeadModel.updateOne(
        { _id: lead._id, advisorUserid: { $exists: false } },
        { $set: { routeAt: decision.routeAt } },
      );
      continue;
    }
    const res = await LeadModel.updateOne(
      { _id: lead._id, advisorUserid: { $exists: false } },
      {
        $set: {
          advisorUserid: decision.advisorUserid,
          assignment: 1,
          assignedAt: now,
          slaDueAt: decision.slaDueAt,
          slaCheckpointAt: decision.slaDueAt,
          slaLevel: 0,
        },
        $unset: { routeAt: 1 },
        $push: {
          history: {
            at: now,
            actor: 'system',
            action: 'assigned',
            detail: { to: decision.advisorUserid, rule: decision.rule, onDuty: decision.onDuty },
          },
        },
      },
    );
    if (res.modifiedCount === 0) {
      await adjustLeadCount(deps.queues, deps.corpId, decision.advisorUserid, -1);
      continue;
    }
    routed++;
    await leadCardJob.enqueue(deps.queues, { corpId: deps.corpId, leadId: String(lead._id), assignment: 1 });
  }
  return routed;
}

/**
 * The lead SLA ladder (docs/acquisition.md "SLA"), like the task ladder (docs/tasks.md): state on
 * the lead, driven by the minute tick over `slaCheckpointAt`, each step committed with a
 * conditional update on the level. 1: remind the advisor when first contact is overdue; 2: tell
 * their leaders; 3: reassign to the next eligible advisor (fresh SLA and card). Steps wait for
 * working hours; any contact clears the checkpoint, so the ladder stops by itself.
 */
async function runLadder(deps: TaskDeps, ctx: RoutingContext, summary: LeadTickSummary): Promise<void> {
  const now = deps.clock.now();
  if (!inWorkingHours(now, deps.settings.workingHours, deps.timeZone)) return;
  const due = (await LeadModel.find({
    corpId: deps.corpId,
    stage: 'new',
    outcome: { $exists: false },
    slaCheckpointAt: { $lte: now },
  })
    .sort({ slaCheckpointAt: 1 })
    .limit(500)
    .lean()) as LeadLean[];
  for (const lead of due) {
    const level = (lead.slaLevel ?? 0) + 1;
    const id = String(lead._id);
    try {
      if (level === 1) {
        // Paced like the first card: over the advisor's window it goes out in their next digest.
        await deliverLeadReminder(deps, lead);
        summary.reminded++;
      } else if (level === 2) {
        if (lead.advisorUserid) await deliverLeadEscalation(deps, lead, await leadersOf(deps, lead.advisorUserid));
        summary.escalated++;
      } else {
        const decision = await routeLead(
          ctx,
          { source: lead.source as never, model: lead.model },
          now,
          lead.advisorUserid ? [lead.advisorUserid] : [],
        );
        if (decision.kind === 'assigned') {
          await reassignLead(
            { ...deps, slaDueAt: decision.slaDueAt, counted: true },
            id,
            decision.advisorUserid,
            'system:sla',
          ).catch(async (err: unknown) => {
            await adjustLeadCount(deps.queues, deps.corpId, decision.advisorUserid, -1);
            throw err;
          });
          summary.reassigned++;
          continue;
        }
      }
    } catch (err) {
      deps.logger.warn(
        { corpId: deps.corpId, leadId: id, level, err: (err as Error).message },
        'lead SLA step failed; retried next tick',
      );
      continue;
    }
    const after = level === 1 ? ctx.settings.escalateAfterMinutes : ctx.settings.reassignAfterMinutes;
    const next = level < 3 ? dayjs.utc(now).add(after, 'minute').toDate() : undefined;
    await LeadModel.updateOne(
      { _id: lead._id, slaLevel: lead.slaLevel ?? 0, stage: 'new' },
      {
        $set: { slaLevel: level, ...(next ? { slaCheckpointAt: next } : {}) },
        ...(next ? {} : { $unset: { slaCheckpointAt: 1 } }),
        $push: {
          history: {
            at: now,
            actor: 'system',
            action: level === 1 ? 'reminded' : level === 2 ? 'escalated' : 'flagged',
            detail: { level },
          },
        },
      },
    );
  }
}

/** One corp's minute of lead housekeeping: waiting leads routed, then the SLA ladder. */
export async function runLeadTick(deps: TaskDeps): Promise<LeadTickSummary> {
  const settings = await loadAcquisitionSettings(deps.corpId);
  const ctx = routingContext(deps, settings);
  await ensureLeadCounters(deps.queues, deps.corpId); // rebuilt from MongoDB when due (lead-counters.ts)
  const summary: LeadTickSummary = { routed: await routeWaiting(deps, ctx), reminded: 0, escalated: 0, reassigned: 0 };
  await runLadder(deps, ctx, summary);
  return summary;
}
