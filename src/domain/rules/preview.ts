import { isHeldOut } from './holdout.js';
import type { PersonalData } from '../customers/personal-data.js';
import { failedConditions } from './conditions.js';
import { loadCustomerContexts, type CustomerContext } from './customer-context.js';
import type { QuietHours } from '../tasks/task-settings.js';
import { effectiveQuietHours, followUpDueAt, nextAllowedTime } from './engine/guards.js';
import { dateOccurrences } from './occurrences.js';
import { LeadModel } from '../acquisition/lead.model.js';
import { failedLeadConditions } from './engine/lead-rules.js';
import { failedVehicleConditions } from './engine/owner-unreachable.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { isLeadTrigger, type Action, type Conditions, type RuleBody } from './rule.schema.js';

/** How many customers preview examines at most; beyond it the count is a lower bound. */
export const PREVIEW_SCAN_LIMIT = 5000;

export interface PlannedAction {
  index: number;
  type: Action['type'];
  /** ISO time, or a phrase when it depends on a future event. */
  when: string;
  /** `when` as a code the console translates, when it is a phrase rather than a time. */
  whenCode?: 'never' | 'on_add';
  note?: string;
  /** `note` as a code the console translates (the English `note` stays for API clients). */
  noteCode?: 'follow_up' | 'opted_out' | 'quiet_hours_moved' | 'advisor_confirms' | 'welcome_window';
}

export interface PreviewResult {
  corpId: string;
  matching: number;
  scanned: number;
  /** False when more customers exist than were scanned. */
  exact: boolean;
  /**
   * With a holdout share: matching customers in the control group. Exact for a stored rule (the
   * keyed hash of customer and rule id); for a draft without an id, the expected count.
   */
  heldOut?: { count: number; estimated: boolean };
  /** `triggerEvent`: for event triggers, the event (the console words the sentence itself). */
  example?: { customerId: string; trigger: string; triggerEvent?: string; actions: PlannedAction[] };
}

/** The MongoDB part of the conditions (customer fields); the rest is evaluated in memory. */
export function customerFilterOf(conditions: Conditions): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (conditions.lifecycle) filter['lifecycle.stage'] = { $in: conditions.lifecycle };
  if (conditions.customerType) filter.type = conditions.customerType === 'wecom' ? 2 : 1;
  if (conditions.advisors) filter.responsibleUserid = { $in: conditions.advisors };
  return filter;
}

/**
 * What a rule would do in one corp now, without doing anything: how many customers its
 * conditions match (and, for a date rule, that have an upcoming date), and for the first such
 * customer the actions with their times. Reads only.
 */
export async function previewRule(
  rule: RuleBody,
  opts: {
    corpId: string;
    timeZone: string;
    quietHours: QuietHours | null;
    now: Date;
    pd?: PersonalData;
    scanLimit?: number;
    ruleId?: string;
  },
): Promise<PreviewResult> {
  const limit = opts.scanLimit ?? PREVIEW_SCAN_LIMIT;
  if (isLeadTrigger(rule.trigger.type)) return previewLeadRule(rule, opts.corpId, opts.now, limit);
  if (rule.trigger.type === 'owner.unreachable') return previewOwnerUnreachableRule(rule, opts, limit);
  const contexts = await loadCustomerContexts(opts.corpId, customerFilterOf(rule.conditions), limit + 1, opts.pd);
  const scanned = Math.min(contexts.length, limit);
  let matching = 0;
  let heldOut = 0;
  const share = rule.holdoutShare;
  const exactHoldout = Boolean(share && opts.ruleId && opts.pd);
  let example: PreviewResult['example'];
  for (const ctx of contexts.slice(0, limit)) {
    if (failedConditions(rule.conditions, ctx, opts.now).length > 0) continue;
    const plan = planFor(rule, ctx, opts);
    if (!plan) continue;
    matching++;
    if (exactHoldout && opts.pd && opts.ruleId && isHeldOut(opts.pd.hasher, opts.ruleId, ctx.customerId, share)) {
      heldOut++;
      continue; // a held-out customer is not the example of what the rule does
    }
    example ??= { customerId: ctx.customerId, ...plan };
  }
  const held = share
    ? { heldOut: { count: exactHoldout ? heldOut : Math.round(matching * share), estimated: !exactHoldout } }
    : {};
  return { corpId: opts.corpId, matching, scanned, exact: contexts.length <= limit, ...held, example };
}

/**
 * A lead rule's preview: the open leads its lead conditions match now (from/to stages describe a
 * change, so they are left out here); no example, as the actions wait for the lead's event.
 */
async function previewLeadRule(rule: RuleBody, corpId: string, now: Date, limit: number): Promise<PreviewResult> {
  const leads = await LeadModel.find(
    { corpId, outcome: { $exists: false } },
    { source: 1, model: 1, stage: 1, lostReason: 1, createdAt: 1 },
  )
    .limit(limit + 1)
    .lean();
  const { fromStages: _from, toStages: _to, ...atPresent } = rule.conditions.lead ?? {};
  const matching = leads.slice(0, limit).filter(
    (l) =>
      failedLeadConditions(atPresent, {
        leadId: String(l._id),
        source: l.source,
        model: l.model ?? undefined,
        stage: l.stage,
        lostReason: l.lostReason ?? undefined,
        ageHours: (now.getTime() - l.createdAt.getTime()) / 3_600_000,
      }).length === 0,
  ).length;
  return { corpId, matching, scanned: Math.min(leads.length, limit), exact: leads.length <= limit };
}

/**
 * An `owner.unreachable` rule's preview (docs/outcomes.md): the vehicles unreachable now (as of
 * the last daily run) that the vehicle conditions match; no example, the subject being a vehicle.
 */
async function previewOwnerUnreachableRule(
  rule: RuleBody,
  opts: { corpId: string; timeZone: string; now: Date },
  limit: number,
): Promise<PreviewResult> {
  const vehicles = await VehicleModel.find(
    { corpId: opts.corpId, unreachableSince: { $exists: true } },
    { model: 1, deliveryDate: 1, lastServiceDate: 1, salesUserid: 1 },
  )
    .limit(limit + 1)
    .lean();
  const matching = vehicles
    .slice(0, limit)
    .filter((v) => failedVehicleConditions(rule.conditions.vehicle, v, opts.now, opts.timeZone).length === 0).length;
  return { corpId: opts.corpId, matching, scanned: Math.min(vehicles.length, limit), exact: vehicles.length <= limit };
}

function planFor(
  rule: RuleBody,
  ctx: CustomerContext,
  { timeZone, now, quietHours }: { timeZone: string; now: Date; quietHours: QuietHours | null },
): { trigger: string; triggerEvent?: string; actions: PlannedAction[] } | undefined {
  let triggerAt: Date | undefined;
  let trigger: string;
  if (rule.trigger.type === 'date') {
    const next = dateOccurrences(rule.trigger, ctx, timeZone, now).sort(
      (a, b) => a.dueAt.getTime() - b.dueAt.getTime(),
    )[0];
    if (!next) return undefined;
    triggerAt = next.dueAt;
    // A birthday is personal data: the preview names the field, never its value.
    trigger = `${rule.trigger.field}${rule.trigger.field === 'birthday' ? '' : ` ${next.anchor.value}`} ${rule.trigger.offset} → ${next.dueAt.toISOString()}`;
  } else {
    trigger = `on the next ${rule.trigger.type} event (times below assume it happens now)`;
    triggerAt = now;
  }
  const at = triggerAt;
  const actions = rule.actions.map((action, index): PlannedAction => {
    switch (action.type) {
      case 'follow_up':
        return {
          index,
          type: action.type,
          when: followUpDueAt(action, at, timeZone).toISOString(),
          note: 'a follow-up for the responsible advisor',
          noteCode: 'follow_up',
        };
      case 'message_customer': {
        if (ctx.optOut)
          return {
            index,
            type: action.type,
            when: 'never',
            whenCode: 'never',
            note: 'the customer opted out of marketing',
            noteCode: 'opted_out',
          };
        const moved = nextAllowedTime(at, effectiveQuietHours(rule.guards, quietHours), timeZone);
        const quiet = moved.getTime() !== at.getTime();
        return {
          index,
          type: action.type,
          when: moved.toISOString(),
          note: quiet ? 'moved out of quiet hours; the advisor confirms in WeCom' : 'the advisor confirms in WeCom',
          noteCode: quiet ? 'quiet_hours_moved' : 'advisor_confirms',
        };
      }
      case 'welcome':
        return {
          index,
          type: action.type,
          when: 'when an advisor adds the customer',
          whenCode: 'on_add',
          note: "sent within WeCom's 20 s window",
          noteCode: 'welcome_window',
        };
      default:
        return { index, type: action.type, when: at.toISOString() };
    }
  });
  return { trigger, ...(rule.trigger.type === 'date' ? {} : { triggerEvent: rule.trigger.type }), actions };
}
