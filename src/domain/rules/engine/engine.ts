import { Types } from 'mongoose';
import { CustomerModel } from '../../customers/customer.model.js';
import { describeTag } from '../../customers/corp-tags.service.js';
import type { DomainEvent } from '../../events/domain-event.js';
import { ScheduleModel } from '../../schedules/schedule.model.js';
import {
  cancelCustomerSchedules,
  markScheduleFired,
  rehomeCustomerSchedules,
} from '../../schedules/schedule.service.js';
import { failedConditions, stateMatches } from '../conditions.js';
import { loadCustomerContext, type CustomerContext } from '../customer-context.js';
import { eventOccurrenceId } from '../occurrences.js';
import { isLeadTrigger, type AnchorField, type Trigger, type TriggerType } from '../rule.schema.js';
import { HOLDOUT_REASON, isHeldOut } from '../holdout.js';
import { executeAction } from './action-executor.js';
import { planDateRulesForCustomer } from './date-planner.js';
import type { EngineDeps } from './engine-deps.js';
import {
  actionStatus,
  claimExecution,
  finishExecution,
  flushActions,
  recordExecution,
  type ActionRecord,
  type ExecutionOutcome,
} from './execution.service.js';
import { failedLeadConditions, loadLeadFacts, runLeadRuleWithoutCustomer } from './lead-rules.js';
import { findActiveRules, findLiveRule, type ActiveRule } from './rule-finder.js';

const RULE_TRIGGERS: readonly string[] = [
  'customer.added',
  'customer.tag_added',
  'customer.tag_removed',
  'customer.became_owner',
  'vehicle.linked',
  'customer.lost',
  'service.overdue',
];
const VEHICLE_ANCHORS: readonly AnchorField[] = ['deliveryDate', 'insuranceExpiry', 'lastServiceDate'];

export interface RuleOutcome {
  ruleId: string;
  outcome: 'ran' | 'duplicate' | 'conditions_failed' | 'trigger_mismatch' | 'held_out';
}

/** Whether the trigger's own filter (channel state, named tag) accepts the event. */
async function triggerAccepts(deps: EngineDeps, trigger: Trigger, event: DomainEvent): Promise<boolean> {
  if (trigger.type === 'customer.added')
    return (
      !trigger.state || stateMatches(trigger.state, typeof event.data.state === 'string' ? event.data.state : undefined)
    );
  if (trigger.type === 'customer.tag_added' || trigger.type === 'customer.tag_removed') {
    const tagId = typeof event.data.tagId === 'string' ? event.data.tagId : undefined;
    const tag = tagId ? await describeTag(deps, tagId) : undefined;
    return Boolean(tag && tag.group === trigger.tag.group && tag.name === trigger.tag.name);
  }
  return true;
}

/**
 * The rules engine's reaction to one domain event (docs/architecture.md §4–6). Housekeeping first: a lost
 * customer's open schedules are cancelled, a transfer re-homes them, a changed anchor or a linked
 * vehicle re-plans date rules. Then every matching rule for the event's trigger runs, highest
 * priority first, at most once per occurrence.
 */
export async function handleDomainEvent(deps: EngineDeps, event: DomainEvent): Promise<RuleOutcome[]> {
  if (isLeadTrigger(event.type)) return handleLeadEvent(deps, event);
  if (!event.customerId || !Types.ObjectId.isValid(event.customerId)) return [];
  const now = deps.clock.now();
  const customerId = event.customerId;
  switch (event.type) {
    case 'customer.lost':
      await cancelCustomerSchedules(deps.corpId, customerId, 'customer_lost', now);
      break;
    case 'relationship.transferred': {
      const from = typeof event.data.fromUserid === 'string' ? event.data.fromUserid : event.userid;
      const customer = await CustomerModel.findOne(
        { _id: customerId, corpId: deps.corpId },
        { responsibleUserid: 1 },
      ).lean();
      if (from && customer?.responsibleUserid && customer.responsibleUserid !== from)
        await rehomeCustomerSchedules(deps.corpId, customerId, from, customer.responsibleUserid);
      break;
    }
    case 'customer.anchor_changed': {
      const field = event.data.field;
      if (typeof field === 'string')
        await planDateRulesForCustomer(deps, customerId, { fields: [field as AnchorField] });
      break;
    }
    case 'vehicle.linked':
      await planDateRulesForCustomer(deps, customerId, { fields: VEHICLE_ANCHORS });
      break;
    default:
      break;
  }
  if (!RULE_TRIGGERS.includes(event.type)) return [];
  const rules = await findActiveRules(deps.corpId, event.type as TriggerType, now, { reads: deps.reads });
  if (rules.length === 0) return [];
  const advisorUserid = event.type === 'customer.added' ? event.userid : undefined;
  const ctx = await loadCustomerContext(deps.corpId, customerId, { pd: deps.pd, advisorUserid, reads: deps.reads });
  if (!ctx) return [];
  const channelState =
    event.type === 'customer.added' && typeof event.data.state === 'string' ? event.data.state : undefined;
  const outcomes: RuleOutcome[] = [];
  for (const rule of rules) {
    const trigger = rule.body.trigger;
    if (
      trigger.type === 'date' ||
      trigger.type === 'inactivity' ||
      trigger.type === 'owner.unreachable' ||
      !(await triggerAccepts(deps, trigger, event))
    ) {
      outcomes.push({ ruleId: rule.id, outcome: 'trigger_mismatch' });
      continue;
    }
    const occurrenceId = eventOccurrenceId(trigger, event);
    outcomes.push({
      ruleId: rule.id,
      outcome: await runRule(deps, rule, ctx, occurrenceId, new Date(event.occurredAt), channelState),
    });
  }
  return outcomes;
}

/**
 * Rules on `lead.created` / `lead.stage_changed` (docs/acquisition.md "Rules on leads"): the lead
 * conditions first; then, for a lead matched to a WeCom customer, the rule runs for that customer
 * like any other (customer conditions, guards, holdout); for one not on WeCom yet only the
 * advisor's notice runs (lead-rules.ts). Once per (rule, lead, stage reached).
 */
async function handleLeadEvent(deps: EngineDeps, event: DomainEvent): Promise<RuleOutcome[]> {
  const now = deps.clock.now();
  const rules = await findActiveRules(deps.corpId, event.type as TriggerType, now, { reads: deps.reads });
  if (rules.length === 0) return [];
  const lead = await loadLeadFacts(deps.corpId, event);
  if (!lead) return [];
  const ctx = lead.customerId
    ? await loadCustomerContext(deps.corpId, lead.customerId, {
        pd: deps.pd,
        advisorUserid: lead.advisorUserid,
        reads: deps.reads,
      })
    : undefined;
  const outcomes: RuleOutcome[] = [];
  for (const rule of rules) {
    const trigger = rule.body.trigger;
    if (trigger.type === 'date' || trigger.type === 'inactivity' || trigger.type === 'owner.unreachable') continue;
    if (failedLeadConditions(rule.body.conditions.lead, lead).length > 0) {
      outcomes.push({ ruleId: rule.id, outcome: 'conditions_failed' });
      continue;
    }
    const occurrenceId = eventOccurrenceId(trigger, event);
    outcomes.push({
      ruleId: rule.id,
      outcome: ctx
        ? await runRule(deps, rule, ctx, occurrenceId, new Date(event.occurredAt))
        : await runLeadRuleWithoutCustomer(deps, rule, lead, occurrenceId),
    });
  }
  return outcomes;
}

/**
 * Runs a rule for one customer and occurrence: claims the execution record (once per
 * occurrence, across retries and crashes), checks conditions, then runs each action still open.
 * `only` limits it to some actions (a date rule's schedule runs its non-follow-up actions).
 */
export async function runRule(
  deps: EngineDeps,
  rule: ActiveRule,
  ctx: CustomerContext,
  occurrenceId: string,
  triggerAt: Date,
  channelState?: string,
  only?: (index: number) => boolean,
): Promise<RuleOutcome['outcome']> {
  if (!only && rule.body.actions.every((a) => REPEATABLE_ACTIONS.has(a.type))) {
    const outcome = await runRepeatableRule(deps, rule, ctx, occurrenceId, triggerAt, channelState);
    if (outcome) return outcome;
  }
  const claim = await claimExecution(
    { ruleId: rule.id, subject: ctx.customerId, occurrenceId },
    {
      corpId: deps.corpId,
      ruleVersion: rule.version,
      trigger: rule.body.trigger.type,
      triggerAt,
      actions: rule.body.actions,
    },
  );
  if (claim.open.length === 0) return 'duplicate';
  const failed = failedConditions(rule.body.conditions, ctx, deps.clock.now(), channelState);
  if (failed.length > 0 && claim.fresh) {
    await finishExecution(deps.corpId, claim.id, 'skipped', `conditions: ${failed.join(', ')}`);
    return 'conditions_failed';
  }
  // The control group: recorded, never acted on (docs/outcomes.md, "Holdout").
  if (rule.body.holdoutShare && isHeldOut(deps.pd.hasher, rule.id, ctx.customerId, rule.body.holdoutShare)) {
    await finishExecution(deps.corpId, claim.id, 'skipped', HOLDOUT_REASON);
    return 'held_out';
  }
  // A retry keeps the version recorded at the first claim; the body is the current one. The
  // actions' outcomes are written with the finish, in one write (docs/scale.md §4).
  const deferred: ActionRecord[] = [];
  const run = {
    rule: { ...rule, version: claim.ruleVersion },
    ctx,
    occurrenceId,
    executionId: claim.id,
    triggerAt,
    deferred,
  };
  try {
    for (const index of claim.open) {
      if (only && !only(index)) continue;
      await executeAction(deps, run, index);
    }
  } catch (err) {
    // What finished stays finished: the retry runs only the rest.
    await flushActions(deps.corpId, claim.id, deferred).catch(() => undefined);
    throw err;
  }
  await finishExecution(deps.corpId, claim.id, 'done', undefined, deferred);
  return 'ran';
}

/**
 * Actions safe to repeat by construction (docs/rules.md, "Executions"): a tag skips what is there
 * and `mark_tag` is idempotent, a follow-up plan is an upsert by key, a welcome action is only
 * recorded. A notice or a message is not: a rule with one claims its execution first.
 */
const REPEATABLE_ACTIONS: ReadonlySet<string> = new Set(['tag', 'follow_up', 'welcome']);

/**
 * `runRule` for a rule whose actions are all safe to repeat: no claim; conditions, holdout and
 * actions, then the record in one command (`recordExecution`). A replay finds a finished record
 * and leaves it (its actions repeated harmlessly). Undefined: a failed try left a running record
 * and the conditions no longer hold; the claimed path resumes it, as for any retry.
 */
async function runRepeatableRule(
  deps: EngineDeps,
  rule: ActiveRule,
  ctx: CustomerContext,
  occurrenceId: string,
  triggerAt: Date,
  channelState?: string,
): Promise<RuleOutcome['outcome'] | undefined> {
  const key = { ruleId: rule.id, subject: ctx.customerId, occurrenceId };
  const info = {
    corpId: deps.corpId,
    ruleVersion: rule.version,
    trigger: rule.body.trigger.type,
    triggerAt,
    actions: rule.body.actions,
  };
  const record = (outcome: ExecutionOutcome) => recordExecution(key, info, outcome);
  const final = (before: string | undefined) => before === 'done' || before === 'skipped';
  const failed = failedConditions(rule.body.conditions, ctx, deps.clock.now(), channelState);
  if (failed.length > 0) {
    const before = await record({ status: 'skipped', reason: `conditions: ${failed.join(', ')}`, insertOnly: true });
    if (before === undefined) return 'conditions_failed';
    return final(before) ? 'duplicate' : undefined;
  }
  // The control group: recorded, never acted on (docs/outcomes.md, "Holdout").
  if (rule.body.holdoutShare && isHeldOut(deps.pd.hasher, rule.id, ctx.customerId, rule.body.holdoutShare))
    return final(await record({ status: 'skipped', reason: HOLDOUT_REASON })) ? 'duplicate' : 'held_out';
  const deferred: ActionRecord[] = [];
  // No record id yet: the repeatable actions write their outcomes only to `deferred`.
  const run = { rule, ctx, occurrenceId, executionId: '', triggerAt, deferred };
  try {
    for (let index = 0; index < rule.body.actions.length; index++) await executeAction(deps, run, index);
  } catch (err) {
    // As the claimed path: the record keeps what finished, running; the retry runs it again.
    await record({ status: 'running', records: deferred }).catch(() => undefined);
    throw err;
  }
  return final(await record({ status: 'done', records: deferred })) ? 'duplicate' : 'ran';
}

/**
 * Fires a due `rule_action` schedule (from the `scheduled` queue). A schedule with an action
 * index is a message moved by quiet hours: that action runs now (guards re-checked). Without
 * one it is a date rule's occurrence: its non-follow-up actions run (follow-ups have their own
 * schedules). A schedule that already fired or was cancelled does nothing.
 */
export async function fireRuleActionSchedule(deps: EngineDeps, scheduleId: string): Promise<string> {
  const schedule = await ScheduleModel.findById(new Types.ObjectId(scheduleId)).lean();
  if (!schedule || schedule.kind !== 'rule_action' || !['planned', 'enqueued'].includes(schedule.status))
    return 'not_open';
  const now = deps.clock.now();
  const rule = schedule.ruleId ? await findLiveRule(deps.corpId, String(schedule.ruleId), now) : undefined;
  const ctx = await loadCustomerContext(deps.corpId, schedule.customerId, { pd: deps.pd });
  if (!rule || !ctx) {
    await ScheduleModel.updateOne(
      { _id: schedule._id },
      { $set: { status: 'cancelled', cancelledAt: now, cancelReason: rule ? 'customer_gone' : 'rule_inactive' } },
    );
    return 'cancelled';
  }
  const payload = (schedule.payload ?? {}) as { triggerAt?: string };
  const triggerAt = payload.triggerAt ? new Date(payload.triggerAt) : schedule.dueAt;
  if (schedule.actionIndex === undefined || schedule.actionIndex === null) {
    await runRule(
      deps,
      rule,
      ctx,
      schedule.occurrenceId,
      triggerAt,
      undefined,
      (i) => rule.body.actions[i]?.type !== 'follow_up',
    );
  } else {
    const claim = await claimExecution(
      { ruleId: rule.id, subject: ctx.customerId, occurrenceId: schedule.occurrenceId },
      { corpId: deps.corpId, ruleVersion: rule.version, trigger: rule.body.trigger.type, actions: rule.body.actions },
    );
    if ((await actionStatus(claim.id, schedule.actionIndex)) === 'scheduled') {
      await executeAction(
        deps,
        {
          rule: { ...rule, version: claim.ruleVersion },
          ctx,
          occurrenceId: schedule.occurrenceId,
          executionId: claim.id,
          triggerAt,
          fromSchedule: true,
        },
        schedule.actionIndex,
      );
    }
  }
  await markScheduleFired(scheduleId, now);
  return 'fired';
}
