import { isHeldOut } from '../holdout.js';
import { Types } from 'mongoose';
import { CustomerModel } from '../../customers/customer.model.js';
import { ScheduleModel } from '../../schedules/schedule.model.js';
import { VehicleModel } from '../../vehicles/vehicle.model.js';
import { cancelStaleAnchorSchedules, planSchedule, scheduleKey } from '../../schedules/schedule.service.js';
import { conditionsHold } from '../conditions.js';
import { loadCustomerContext } from '../customer-context.js';
import { dateOccurrences } from '../occurrences.js';
import type { AnchorField } from '../rule.schema.js';
import type { Queues } from '../../../queues/queue-factory.js';
import { rulesBackfillJob } from '../../../queues/jobs/rules.jobs.js';
import type { EngineDeps } from './engine-deps.js';
import { executionExists } from './execution.service.js';
import { followUpDueAt } from './guards.js';
import { findActiveRules, type ActiveRule } from './rule-finder.js';

/** Asks the worker to plan a date rule for existing customers (after create, update or enable). */
export async function requestDateRuleBackfill(queues: Queues, ruleId: string, version: number): Promise<void> {
  await rulesBackfillJob.enqueue(queues, { ruleId, version });
}

export type PlanDeps = Pick<EngineDeps, 'corpId' | 'timeZone' | 'clock' | 'pd'>;

/**
 * (Re)plans the `date` rules of one customer (docs/architecture.md §5–6): each upcoming occurrence becomes
 * schedules: follow-up actions as `follow_up` schedules at their own due time, the other actions
 * as one `rule_action` schedule at the computed date. Re-planning moves planned schedules (same
 * occurrence, new time) and cancels those whose occurrence went away; an occurrence that already
 * ran is never planned again. Called on `customer.anchor_changed`, `vehicle.linked`, and when a
 * date rule is created or enabled (backfill).
 */
export async function planDateRulesForCustomer(
  deps: PlanDeps,
  customerId: string,
  opts: { fields?: readonly AnchorField[]; rules?: ActiveRule[] } = {},
): Promise<number> {
  const now = deps.clock.now();
  const rules = (opts.rules ?? (await findActiveRules(deps.corpId, 'date', now))).filter(
    (r) => r.body.trigger.type === 'date' && (!opts.fields || opts.fields.includes(r.body.trigger.field)),
  );
  if (rules.length === 0) return 0;
  const ctx = await loadCustomerContext(deps.corpId, customerId, { pd: deps.pd });
  if (!ctx) return 0;
  let planned = 0;
  for (const rule of rules) {
    const trigger = rule.body.trigger;
    if (trigger.type !== 'date') continue;
    const keep: string[] = [];
    const occurrences =
      ctx.lifecycle === 'lost' || !conditionsHold(rule.body.conditions, ctx, now)
        ? []
        : dateOccurrences(trigger, ctx, deps.timeZone, now);
    for (const occ of occurrences) {
      if (
        await executionExists(deps.corpId, { ruleId: rule.id, subject: ctx.customerId, occurrenceId: occ.occurrenceId })
      )
        continue;
      const base = {
        corpId: deps.corpId,
        customerId: ctx.customerId,
        ruleId: rule.id,
        ruleVersion: rule.version,
        occurrenceId: occ.occurrenceId,
        anchor: occ.anchor,
        advisorUserid: ctx.responsibleUserid,
      };
      // A held-out customer gets no follow-up; the occurrence still runs (and records the holdout) on its date.
      const heldOut = Boolean(
        rule.body.holdoutShare && isHeldOut(deps.pd.hasher, rule.id, ctx.customerId, rule.body.holdoutShare),
      );
      const others = heldOut || rule.body.actions.some((a) => a.type !== 'follow_up');
      if (others) {
        keep.push(scheduleKey({ ...base, kind: 'rule_action' }));
        if (
          (
            await planSchedule({
              ...base,
              kind: 'rule_action',
              dueAt: occ.dueAt,
              payload: { triggerAt: occ.dueAt.toISOString() },
            })
          ).planned
        )
          planned++;
      }
      for (const [index, action] of rule.body.actions.entries()) {
        if (action.type !== 'follow_up' || heldOut) continue;
        keep.push(scheduleKey({ ...base, kind: 'follow_up', actionIndex: index }));
        const payload = {
          title: action.title,
          talkTrack: action.talkTrack,
          sla: action.sla,
          escalation: action.escalation,
        };
        if (
          (
            await planSchedule({
              ...base,
              kind: 'follow_up',
              actionIndex: index,
              dueAt: followUpDueAt(action, occ.dueAt, deps.timeZone),
              payload,
            })
          ).planned
        )
          planned++;
      }
    }
    await cancelStaleAnchorSchedules(
      { corpId: deps.corpId, customerId: ctx.customerId, ruleId: rule.id, field: trigger.field },
      keep,
      now,
    );
  }
  return planned;
}

/** Customers of a corp that have the anchor a date rule counts from (for the backfill). */
export async function customersWithAnchor(
  corpId: string,
  field: AnchorField,
  afterId?: string,
  limit = 500,
): Promise<string[]> {
  const after = afterId ? { $gt: new Types.ObjectId(afterId) } : { $exists: true };
  if (field === 'birthday') {
    return (
      await CustomerModel.find({ corpId, birthdayEnc: { $exists: true }, _id: after }, { _id: 1 })
        .sort({ _id: 1 })
        .limit(limit)
        .lean()
    ).map((c) => String(c._id));
  }
  const vehicles = await VehicleModel.find(
    { corpId, [field]: { $exists: true }, customerId: { ...after, $ne: null } },
    { customerId: 1 },
  )
    .sort({ customerId: 1 })
    .limit(limit)
    .lean();
  return [...new Set(vehicles.map((v) => String(v.customerId)))];
}

/** Planned schedules of a customer (tests and the console). */
export async function plannedSchedulesOf(corpId: string, customerId: string) {
  return ScheduleModel.find({ corpId, customerId: new Types.ObjectId(customerId), status: 'planned' })
    .sort({ dueAt: 1 })
    .lean();
}
