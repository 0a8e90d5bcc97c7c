import { Types } from 'mongoose';
import { vehicleRowsOf } from '../customers/customer-rows.js';
import { reachableVehicleIds } from '../outcomes/unreachable-episodes.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import type { TaskDeps } from './task-deps.js';
import { requestNotify } from './task-notify.js';
import { openTaskFields } from './task.service.js';
import { TaskModel } from './task.model.js';

/** What an `owner.unreachable` rule's `follow_up` action asks for (ids and settings only). */
export interface VehicleTaskInput {
  vehicleId: Types.ObjectId;
  ruleId: string;
  ruleVersion: number;
  /** The rule's name ("why this task"). */
  reason: string;
  advisorUserid: string;
  dueAt: Date;
  title: string;
  talkTrack?: string;
  sla?: string;
  escalation?: { after?: string; to?: 'manager' | 'direct_leader'; flagAfter?: string; reassign?: boolean };
}

type Deps = Pick<TaskDeps, 'corpId' | 'timeZone' | 'settings' | 'clock' | 'queues' | 'tuning'>;

/**
 * Creates the "add this owner on WeCom" task of one vehicle (docs/outcomes.md), unless one is
 * open already: the partial unique index (corp, vehicle, kind) while open makes a second rule,
 * a retried job or a second worker end in the same one task. The advisor is told at the next
 * working moment after the due time, like any follow-up.
 */
export async function createVehicleTask(
  deps: Deps,
  input: VehicleTaskInput,
): Promise<{ outcome: 'created' | 'existing'; taskId: string }> {
  const now = deps.clock.now();
  try {
    const [created] = await TaskModel.create([
      {
        corpId: deps.corpId,
        kind: 'add_on_wecom',
        vehicleId: input.vehicleId,
        ruleId: new Types.ObjectId(input.ruleId),
        ruleVersion: input.ruleVersion,
        reason: input.reason,
        category: 'other',
        advisorUserid: input.advisorUserid,
        title: input.title,
        talkTrack: input.talkTrack,
        ...openTaskFields(deps, input, input.dueAt, now),
        history: [
          {
            at: now,
            actor: 'system',
            action: 'created',
            detail: {
              vehicleId: String(input.vehicleId),
              advisor: input.advisorUserid,
              ruleVersion: input.ruleVersion,
            },
          },
        ],
      },
    ]);
    const taskId = String(created?._id);
    await requestNotify(deps.queues, deps.corpId, input.advisorUserid, taskId, 0, deps.tuning.notifyDebounceMs);
    return { outcome: 'created', taskId };
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    const open = await TaskModel.findOne(
      { corpId: deps.corpId, vehicleId: input.vehicleId, kind: 'add_on_wecom', status: 'open' },
      { _id: 1 },
    ).lean();
    if (!open) throw err;
    return { outcome: 'existing', taskId: String(open._id) };
  }
}

/**
 * Closes, as done, the open "add this owner on WeCom" tasks of these vehicles whose owner is now
 * reachable (linked to a customer with an active relationship; docs/outcomes.md): the owner added
 * the dealer, which is what the task asked for. The task takes the customer it now has, its
 * history says `owner_reachable`, and it counts as done (on time or not, like any completion).
 * Idempotent: only open tasks change.
 */
export async function closeReachableOwnerTasks(
  corpId: string,
  vehicleIds: readonly Types.ObjectId[],
  at: Date,
): Promise<number> {
  if (vehicleIds.length === 0) return 0;
  const open = await TaskModel.find(
    { corpId, vehicleId: { $in: [...vehicleIds] }, kind: 'add_on_wecom', status: 'open' },
    { _id: 1, vehicleId: 1 },
  ).lean();
  if (open.length === 0) return 0;
  const vehicles = await VehicleModel.find(
    { corpId, _id: { $in: open.map((t) => t.vehicleId as Types.ObjectId) } },
    { _id: 1, customerId: 1 },
  ).lean();
  const reachable = await reachableVehicleIds(corpId, vehicles);
  const customerOf = new Map(vehicles.map((v) => [String(v._id), v.customerId ?? undefined]));
  let closed = 0;
  for (const task of open) {
    const vehicleId = String(task.vehicleId);
    if (!reachable.has(vehicleId)) continue;
    const res = await TaskModel.updateOne(
      { _id: task._id, corpId, status: 'open' },
      {
        $set: {
          status: 'done',
          outcome: 'contacted',
          completedAt: at,
          notifyPending: false,
          customerId: customerOf.get(vehicleId),
        },
        $unset: { nextCheckpointAt: 1 },
        $push: { history: { at, actor: 'system', action: 'completed', detail: { reason: 'owner_reachable' } } },
      },
    );
    closed += res.modifiedCount;
  }
  return closed;
}

/** The customer's vehicles with an open "add on WeCom" task (a customer added or re-added the dealer). */
export async function vehiclesOfCustomer(corpId: string, customerId: string): Promise<Types.ObjectId[]> {
  if (!Types.ObjectId.isValid(customerId)) return [];
  return (await vehicleRowsOf(corpId, customerId)).map((v) => v._id);
}
