import type { Types } from 'mongoose';
import { dayjs } from '../../../infra/clock.js';
import { AdvisorModel } from '../../customers/advisor.model.js';
import type { TaskDeps } from '../../tasks/task-deps.js';
import { createVehicleTask } from '../../tasks/vehicle-tasks.js';
import { VehicleModel } from '../../vehicles/vehicle.model.js';
import type { VehicleConditions } from '../rule.schema.js';
import type { EngineDeps } from './engine-deps.js';
import { claimExecution, finishExecution, recordAction } from './execution.service.js';
import { followUpDueAt } from './guards.js';
import { findActiveRules, type ActiveRule } from './rule-finder.js';

/** What `owner.unreachable` rules see of a vehicle (no personal data; the VIN never leaves this module). */
export interface UnreachableVehicle {
  _id: Types.ObjectId;
  model?: string | null;
  deliveryDate?: Date | null;
  lastServiceDate?: Date | null;
  salesUserid?: string | null;
  unreachableSince: Date;
}

const wholeDays = (from: Date, now: Date, timeZone: string) =>
  dayjs.utc(now).tz(timeZone).startOf('day').diff(dayjs.utc(from).tz(timeZone).startOf('day'), 'day');

const inRange = (value: number | undefined, r: { min?: number; max?: number } | undefined) =>
  !r || (value !== undefined && (r.min === undefined || value >= r.min) && (r.max === undefined || value <= r.max));

/** The names of the vehicle conditions that do not hold (empty: all hold). Days count in the corp's zone. */
export function failedVehicleConditions(
  c: VehicleConditions | undefined,
  v: Pick<UnreachableVehicle, 'model' | 'deliveryDate' | 'lastServiceDate' | 'salesUserid'>,
  now: Date,
  timeZone: string,
): string[] {
  if (!c) return [];
  const failed: string[] = [];
  const model = (v.model ?? '').toLowerCase();
  if (c.models && !(model && c.models.some((m) => model.includes(m.toLowerCase())))) failed.push('models');
  const delivered = v.deliveryDate ? wholeDays(v.deliveryDate, now, timeZone) : undefined;
  if (!inRange(delivered, c.daysSinceDelivery)) failed.push('daysSinceDelivery');
  const serviced = v.lastServiceDate ? wholeDays(v.lastServiceDate, now, timeZone) : undefined;
  if (!inRange(serviced, c.daysSinceService)) failed.push('daysSinceService');
  if (c.salesAdvisors && !(v.salesUserid && c.salesAdvisors.includes(v.salesUserid))) failed.push('salesAdvisors');
  return failed;
}

/** The vehicle's sales advisor from the DMS when still an active member, else the rule's fallback when active. */
async function assigneeOf(corpId: string, vehicle: UnreachableVehicle, fallback: string | undefined) {
  const candidates = [vehicle.salesUserid ?? undefined, fallback].filter((u): u is string => Boolean(u));
  if (candidates.length === 0) return undefined;
  const active = new Set(
    (await AdvisorModel.find({ corpId, userid: { $in: candidates }, status: 'active' }, { userid: 1 }).lean()).map(
      (a) => a.userid,
    ),
  );
  return candidates.find((u) => active.has(u));
}

/**
 * Runs one `owner.unreachable` rule for one vehicle in its current unreachable episode
 * (docs/outcomes.md, "Add this owner on WeCom" tasks). The execution's subject is the vehicle
 * (`vehicle:<id>`) and its occurrence the episode (`unreachable:<since>`), so the rule acts once
 * per episode however many days the owner stays unreachable, and again only after the owner was
 * reachable and is lost again. Only `follow_up` runs (validation refuses other actions): the task
 * goes to the vehicle's sales advisor if active, else the trigger's `fallbackAdvisor`.
 */
export async function runOwnerUnreachableRule(
  deps: EngineDeps & { tasks: Pick<TaskDeps, 'settings' | 'tuning'> },
  rule: ActiveRule,
  vehicle: UnreachableVehicle,
  now: Date,
): Promise<'ran' | 'duplicate' | 'conditions_failed'> {
  const trigger = rule.body.trigger;
  if (trigger.type !== 'owner.unreachable') return 'conditions_failed';
  const failed = failedVehicleConditions(rule.body.conditions.vehicle, vehicle, now, deps.timeZone);
  // A vehicle that does not match today is not claimed: it may match later in the same episode
  // (days since delivery grow), and the rule then acts once.
  if (failed.length > 0) return 'conditions_failed';
  const claim = await claimExecution(
    {
      ruleId: rule.id,
      subject: `vehicle:${String(vehicle._id)}`,
      occurrenceId: `unreachable:${vehicle.unreachableSince.getTime()}`,
    },
    {
      corpId: deps.corpId,
      ruleVersion: rule.version,
      trigger: trigger.type,
      triggerAt: now,
      actions: rule.body.actions,
    },
  );
  if (claim.open.length === 0) return 'duplicate';
  const advisor = await assigneeOf(deps.corpId, vehicle, trigger.fallbackAdvisor);
  for (const index of claim.open) {
    const action = rule.body.actions[index];
    if (action?.type !== 'follow_up') {
      await recordAction(deps.corpId, claim.id, index, 'skipped', now, { reason: 'owner_not_on_wecom' });
      continue;
    }
    if (!advisor) {
      await recordAction(deps.corpId, claim.id, index, 'skipped', now, { reason: 'no_advisor' });
      continue;
    }
    const task = await createVehicleTask(
      { ...deps, settings: deps.tasks.settings, tuning: deps.tasks.tuning },
      {
        vehicleId: vehicle._id,
        ruleId: rule.id,
        ruleVersion: rule.version,
        reason: rule.body.name,
        advisorUserid: advisor,
        dueAt: followUpDueAt(action, now, deps.timeZone),
        title: action.title,
        talkTrack: action.talkTrack,
        sla: action.sla,
        escalation: action.escalation,
      },
    );
    await recordAction(deps.corpId, claim.id, index, 'done', now, {
      refs: { taskId: task.taskId, task: task.outcome },
    });
  }
  await finishExecution(deps.corpId, claim.id, 'done');
  return 'ran';
}

/**
 * The `owner.unreachable` trigger, evaluated by the daily outcomes run after the episodes were
 * updated (docs/outcomes.md): every enabled rule against every vehicle whose owner is unreachable.
 * Rules absent, nothing is read. Returns how many executions ran (each created or found a task).
 */
export async function evaluateOwnerUnreachableRules(
  deps: EngineDeps & { tasks: Pick<TaskDeps, 'settings' | 'tuning'> },
  batchSize = 500,
): Promise<{ rules: number; ran: number }> {
  const now = deps.clock.now();
  const rules = await findActiveRules(deps.corpId, 'owner.unreachable', now);
  if (rules.length === 0) return { rules: 0, ran: 0 };
  let ran = 0;
  let after: Types.ObjectId | undefined;
  for (;;) {
    const vehicles = (await VehicleModel.find(
      { corpId: deps.corpId, unreachableSince: { $exists: true }, ...(after ? { _id: { $gt: after } } : {}) },
      { _id: 1, model: 1, deliveryDate: 1, lastServiceDate: 1, salesUserid: 1, unreachableSince: 1 },
    )
      .sort({ _id: 1 })
      .limit(batchSize)
      .lean()) as UnreachableVehicle[];
    if (vehicles.length === 0) break;
    after = vehicles[vehicles.length - 1]?._id;
    for (const vehicle of vehicles)
      for (const rule of rules) if ((await runOwnerUnreachableRule(deps, rule, vehicle, now)) === 'ran') ran++;
    if (vehicles.length < batchSize) break;
  }
  return { rules: rules.length, ran };
}
