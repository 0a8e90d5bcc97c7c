import { Types } from 'mongoose';
import { leadPageUrl } from '../../acquisition/lead-card.js';
import { LeadModel } from '../../acquisition/lead.model.js';
import type { DomainEvent } from '../../events/domain-event.js';
import type { LeadConditions } from '../rule.schema.js';
import { advisorNotice } from './action-executor.js';
import type { EngineDeps } from './engine-deps.js';
import { claimExecution, finishExecution, recordAction } from './execution.service.js';
import type { ActiveRule } from './rule-finder.js';

/** What lead rules see of the lead at its event (ids, codes and stages only). */
export interface LeadFacts {
  leadId: string;
  source: string;
  model?: string;
  /** The stage after the event. */
  stage: string;
  from?: string;
  to?: string;
  lostReason?: string;
  ageHours: number;
  advisorUserid?: string;
  /** Set once the person was matched to a WeCom customer (docs/acquisition.md "Matching and stages"). */
  customerId?: string;
}

/** The lead of a `lead.created` / `lead.stage_changed` event, or undefined when it is gone. */
export async function loadLeadFacts(corpId: string, event: DomainEvent): Promise<LeadFacts | undefined> {
  const leadId = typeof event.data.leadId === 'string' ? event.data.leadId : '';
  if (!Types.ObjectId.isValid(leadId)) return undefined;
  const lead = await LeadModel.findOne(
    { _id: new Types.ObjectId(leadId), corpId },
    { source: 1, model: 1, stage: 1, lostReason: 1, createdAt: 1, advisorUserid: 1, customerId: 1 },
  ).lean();
  if (!lead) return undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const to = event.type === 'lead.stage_changed' ? text(event.data.to) : undefined;
  return {
    leadId,
    source: lead.source,
    model: lead.model ?? undefined,
    stage: to ?? (event.type === 'lead.created' ? 'new' : lead.stage),
    from: event.type === 'lead.stage_changed' ? text(event.data.from) : undefined,
    to,
    lostReason: lead.lostReason ?? undefined,
    ageHours: (Date.parse(event.occurredAt) - lead.createdAt.getTime()) / 3_600_000,
    advisorUserid: event.userid ?? lead.advisorUserid ?? undefined,
    customerId: lead.customerId ? String(lead.customerId) : undefined,
  };
}

const containsAny = (value: string | undefined, needles: readonly string[]) =>
  Boolean(value) && needles.some((n) => (value ?? '').toLowerCase().includes(n.toLowerCase()));

/** The names of the lead conditions that do not hold (empty: all hold). */
export function failedLeadConditions(c: LeadConditions | undefined, lead: LeadFacts): string[] {
  if (!c) return [];
  const failed: string[] = [];
  if (c.sources && !(c.sources as readonly string[]).includes(lead.source)) failed.push('sources');
  if (c.models && !containsAny(lead.model, c.models)) failed.push('models');
  if (c.stages && !(c.stages as readonly string[]).includes(lead.stage)) failed.push('stages');
  if (c.fromStages && !(lead.from && (c.fromStages as readonly string[]).includes(lead.from)))
    failed.push('fromStages');
  if (c.toStages && !(lead.to && (c.toStages as readonly string[]).includes(lead.to))) failed.push('toStages');
  if (c.lostReasons && !containsAny(lead.lostReason, c.lostReasons)) failed.push('lostReasons');
  if (c.ageHours) {
    const { min, max } = c.ageHours;
    if ((min !== undefined && lead.ageHours < min) || (max !== undefined && lead.ageHours > max))
      failed.push('ageHours');
  }
  return failed;
}

/**
 * A lead rule for a person who is not yet a WeCom customer (docs/acquisition.md "Rules on
 * leads"): only the advisor hears of it — `notify_advisor` goes to the lead's advisor with a
 * link to the lead page. Everything aimed at a customer (`follow_up` tasks, `message_customer`,
 * `tag`) is recorded as skipped with `lead_not_on_wecom`: tasks and messages belong to a
 * customer, and the person has not added anyone yet. Customer conditions cannot hold either.
 * Once matched, lead events run the rule for the customer like any other trigger.
 */
export async function runLeadRuleWithoutCustomer(
  deps: EngineDeps,
  rule: ActiveRule,
  lead: LeadFacts,
  occurrenceId: string,
): Promise<'ran' | 'duplicate' | 'conditions_failed'> {
  const claim = await claimExecution(
    { ruleId: rule.id, subject: `lead:${lead.leadId}`, occurrenceId },
    { corpId: deps.corpId, ruleVersion: rule.version, trigger: rule.body.trigger.type, actions: rule.body.actions },
  );
  if (claim.open.length === 0) return 'duplicate';
  const customerConditions = Object.keys(rule.body.conditions).filter((k) => k !== 'lead');
  if (customerConditions.length > 0 && claim.fresh) {
    await finishExecution(
      deps.corpId,
      claim.id,
      'skipped',
      `conditions: ${customerConditions.join(', ')} (not on WeCom yet)`,
    );
    return 'conditions_failed';
  }
  const now = deps.clock.now();
  for (const index of claim.open) {
    const action = rule.body.actions[index];
    if (action?.type !== 'notify_advisor') {
      await recordAction(deps.corpId, claim.id, index, 'skipped', now, { reason: 'lead_not_on_wecom' });
    } else if (!lead.advisorUserid) {
      await recordAction(deps.corpId, claim.id, index, 'skipped', now, { reason: 'no_advisor' });
    } else {
      await deps.api.sendMessage(
        advisorNotice(action, lead.advisorUserid, leadPageUrl(deps.publicBaseUrl, lead.leadId)),
      );
      await recordAction(deps.corpId, claim.id, index, 'done', now);
    }
  }
  await finishExecution(deps.corpId, claim.id, 'done');
  return 'ran';
}
