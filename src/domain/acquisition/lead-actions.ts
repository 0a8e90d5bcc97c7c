import { Types } from 'mongoose';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import { ConflictError, NotFoundError, ValidationError } from '../../infra/errors.js';
import type { Queues } from '../../queues/queue-factory.js';
import { leadCardJob } from '../../queues/jobs/acquisition.jobs.js';
import { leadCtx, type PersonalData } from '../customers/personal-data.js';
import { withOutbox } from '../events/outbox.js';
import { adjustLeadCount } from './lead-counters.js';
import { LEAD_STAGES, LeadModel, OPEN_LEAD_STAGES, type LeadLean, type LeadStage } from './lead.model.js';

export interface LeadActionDeps {
  corpId: string;
  clock: Clock;
  queues: Queues;
  logger?: Logger;
}

const ORDER = new Map<LeadStage, number>(LEAD_STAGES.map((s, i) => [s, i]));

export function leadObjectId(id: string): Types.ObjectId {
  if (!/^[a-f0-9]{24}$/i.test(id)) throw new NotFoundError(`no lead ${id}`, 'lead_not_found');
  return new Types.ObjectId(id);
}

export async function getLead(corpId: string, id: string): Promise<LeadLean> {
  const lead = (await LeadModel.findOne({ _id: leadObjectId(id), corpId }).lean()) as LeadLean | null;
  if (!lead) throw new NotFoundError(`no lead ${id}`, 'lead_not_found');
  return lead;
}

/**
 * Moves a lead forward (never back; `lost` from anywhere open), records first contact, and emits
 * `lead.stage_changed` (docs/acquisition.md "Stages"). Returns the lead after the change, or the
 * unchanged lead when it already was at or past `stage`.
 */
export async function advanceLead(
  deps: LeadActionDeps,
  id: string,
  stage: LeadStage,
  actor: string,
  extra: {
    via?: string;
    lostReason?: string;
    outcome?: 'won';
    customerId?: Types.ObjectId;
    externalUserId?: string;
  } = {},
): Promise<{ lead: LeadLean; changed: boolean }> {
  const current = await getLead(deps.corpId, id);
  if (current.outcome) {
    if (current.stage === stage) return { lead: current, changed: false };
    throw new ConflictError(`the lead is closed (${current.outcome}); it cannot move to ${stage}`, 'lead_closed');
  }
  if (stage === 'lost' && !extra.lostReason)
    throw new ValidationError([{ path: '/lostReason', message: 'say why the lead was lost' }]);
  const forward = stage === 'lost' || (ORDER.get(stage) ?? 0) > (ORDER.get(current.stage as LeadStage) ?? 0);
  const now = deps.clock.now();
  const set: Record<string, unknown> = {};
  if (forward) set.stage = stage;
  if (stage !== 'new' && !current.firstContactAt)
    Object.assign(set, { firstContactAt: now, contactedVia: extra.via ?? 'api' });
  if (stage === 'lost') Object.assign(set, { outcome: 'lost', lostReason: extra.lostReason, closedAt: now });
  if (extra.outcome === 'won') Object.assign(set, { outcome: 'won', closedAt: now });
  if (stage === 'added' && extra.externalUserId)
    Object.assign(set, { addedAt: now, externalUserId: extra.externalUserId, customerId: extra.customerId });
  if (Object.keys(set).length === 0) return { lead: current, changed: false };
  const unset = set.firstContactAt || set.outcome ? { slaCheckpointAt: 1, routeAt: 1 } : undefined;
  const lead = await withOutbox({ queues: deps.queues, logger: deps.logger }, async (events) => {
    const updated = (await LeadModel.findOneAndUpdate(
      { _id: current._id, stage: current.stage, outcome: { $exists: false } },
      {
        $set: set,
        ...(unset ? { $unset: unset } : {}),
        $push: {
          history: {
            at: now,
            actor,
            action: 'stage',
            detail: { from: current.stage, to: set.stage ?? current.stage, ...(extra.via ? { via: extra.via } : {}) },
          },
        },
      },
      { new: true },
    ).lean()) as LeadLean | null;
    if (!updated) return null;
    if (set.stage || set.outcome) {
      events.record({
        type: 'lead.stage_changed',
        corpId: deps.corpId,
        sourceId: `lead-${id}-${String(set.stage ?? current.stage)}-${String(set.outcome ?? '')}`,
        occurredAt: now.toISOString(),
        customerId: updated.customerId ? String(updated.customerId) : undefined,
        externalUserId: updated.externalUserId ?? undefined,
        userid: updated.advisorUserid ?? undefined,
        data: {
          leadId: id,
          from: current.stage,
          to: updated.stage,
          source: updated.source,
          outcome: updated.outcome ?? null,
        },
      });
    }
    return updated;
  });
  if (!lead) throw new ConflictError('the lead changed meanwhile; reload and try again', 'lead_changed');
  if (lead.advisorUserid && isOpen(current) && !isOpen(lead))
    await adjustLeadCount(deps.queues, deps.corpId, lead.advisorUserid, -1);
  return { lead, changed: true };
}

const isOpen = (lead: Pick<LeadLean, 'stage' | 'outcome'>): boolean =>
  !lead.outcome && OPEN_LEAD_STAGES.includes(lead.stage as LeadStage);

/** First contact (from the card, the sidebar or the API): `new` → `contacted`. */
export function markContacted(
  deps: LeadActionDeps,
  id: string,
  actor: string,
  via: 'card' | 'sidebar' | 'api',
): Promise<{ lead: LeadLean; changed: boolean }> {
  return advanceLead(deps, id, 'contacted', actor, { via });
}

/** A sale (the DMS outcome, or the API for now): `delivered`, closed as won; the worker makes the customer an owner. */
export function recordSale(
  deps: LeadActionDeps,
  id: string,
  actor: string,
): Promise<{ lead: LeadLean; changed: boolean }> {
  return advanceLead(deps, id, 'delivered', actor, { outcome: 'won' });
}

/**
 * A manager (or the SLA ladder) hands an open lead to another advisor: a new assignment, a fresh
 * SLA and card. The open-lead counters follow; `counted`: the routing's pick already counted it.
 */
export async function reassignLead(
  deps: LeadActionDeps & { slaDueAt: Date; counted?: boolean },
  id: string,
  to: string,
  actor: string,
): Promise<LeadLean> {
  const current = await getLead(deps.corpId, id);
  if (current.outcome) throw new ConflictError('the lead is closed', 'lead_closed');
  if (current.advisorUserid === to) return current;
  const now = deps.clock.now();
  const assignment = (current.assignment ?? 0) + 1;
  const contacted = Boolean(current.firstContactAt);
  const updated = (await LeadModel.findOneAndUpdate(
    { _id: current._id, assignment: current.assignment ?? 0 },
    {
      $set: {
        advisorUserid: to,
        assignment,
        assignedAt: now,
        slaLevel: 0,
        ...(contacted ? {} : { slaDueAt: deps.slaDueAt, slaCheckpointAt: deps.slaDueAt }),
      },
      $unset: { routeAt: 1 },
      $push: { history: { at: now, actor, action: 'assigned', detail: { from: current.advisorUserid ?? null, to } } },
    },
    { new: true },
  ).lean()) as LeadLean | null;
  if (!updated) throw new ConflictError('the lead was reassigned meanwhile; reload and try again', 'lead_changed');
  if (isOpen(updated)) {
    if (current.advisorUserid) await adjustLeadCount(deps.queues, deps.corpId, current.advisorUserid, -1);
    if (!deps.counted) await adjustLeadCount(deps.queues, deps.corpId, to, 1);
  }
  if (!contacted) await leadCardJob.enqueue(deps.queues, { corpId: deps.corpId, leadId: id, assignment });
  return updated;
}

/** The API's view of a lead; `withPersonal` opens name and mobile (audited routes only). */
export function presentLead(lead: LeadLean, pd?: PersonalData): Record<string, unknown> {
  const leadId = String(lead._id);
  const personal = pd
    ? {
        name: pd.openFor(leadCtx({ corpId: lead.corpId, leadId }, 'nameEnc'), lead.nameEnc) ?? null,
        mobile: pd.openFor(leadCtx({ corpId: lead.corpId, leadId }, 'mobileEnc'), lead.mobileEnc) ?? null,
      }
    : {};
  return {
    id: leadId,
    corpId: lead.corpId,
    source: lead.source,
    sourceId: lead.sourceId ?? null,
    model: lead.model ?? null,
    budget: lead.budget ?? null,
    preferredTime: lead.preferredTime ?? null,
    consentRef: lead.consentRef ?? null,
    ...personal,
    stage: lead.stage,
    outcome: lead.outcome ?? null,
    lostReason: lead.lostReason ?? null,
    advisorUserid: lead.advisorUserid ?? null,
    assignedAt: lead.assignedAt ?? null,
    routeAt: lead.routeAt ?? null,
    firstContactAt: lead.firstContactAt ?? null,
    contactedVia: lead.contactedVia ?? null,
    addedAt: lead.addedAt ?? null,
    customerId: lead.customerId ? String(lead.customerId) : null,
    repeatCount: lead.repeatCount ?? 0,
    slaDueAt: lead.slaDueAt ?? null,
    slaLevel: lead.slaLevel ?? 0,
    createdAt: lead.createdAt,
    history: lead.history,
  };
}
