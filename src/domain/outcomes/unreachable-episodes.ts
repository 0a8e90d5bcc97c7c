import type { Types } from 'mongoose';
import { RelationshipModel } from '../customers/relationship.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';

const CHUNK = 1000;

/** Vehicles of this batch whose owner is reachable: linked to a customer with an active relationship. */
export async function reachableVehicleIds(
  corpId: string,
  vehicles: ReadonlyArray<{ _id: Types.ObjectId; customerId?: Types.ObjectId | null }>,
): Promise<Set<string>> {
  const customerIds = [...new Set(vehicles.flatMap((v) => (v.customerId ? [String(v.customerId)] : [])))];
  if (customerIds.length === 0) return new Set();
  const active = new Set(
    (
      await RelationshipModel.distinct('customerId', { corpId, status: 'active', customerId: { $in: customerIds } })
    ).map(String),
  );
  return new Set(vehicles.filter((v) => v.customerId && active.has(String(v.customerId))).map((v) => String(v._id)));
}

/**
 * Keeps each vehicle's unreachable episode (docs/outcomes.md, "Add this owner on WeCom" tasks):
 * a vehicle whose owner is not reachable on WeCom gets `unreachableSince = now` the first day it
 * is seen so (unless the owner's data was erased); one found reachable again loses it (and a later loss starts a new episode, which
 * `owner.unreachable` rules may act on again). Returns the vehicles that became reachable, so
 * their open "add on WeCom" tasks can close.
 */
export async function markUnreachableEpisodes(
  corpId: string,
  now: Date,
): Promise<{ unreachable: number; started: number; ended: Types.ObjectId[] }> {
  let unreachable = 0;
  let started = 0;
  const ended: Types.ObjectId[] = [];
  let after: Types.ObjectId | undefined;
  for (;;) {
    const vehicles = await VehicleModel.find(
      { corpId, ...(after ? { _id: { $gt: after } } : {}) },
      { _id: 1, customerId: 1, unreachableSince: 1, ownerErasedAt: 1 },
    )
      .sort({ _id: 1 })
      .limit(CHUNK)
      .lean();
    if (vehicles.length === 0) break;
    after = vehicles[vehicles.length - 1]?._id;
    const reachable = await reachableVehicleIds(corpId, vehicles);
    const start: Types.ObjectId[] = [];
    const end: Types.ObjectId[] = [];
    for (const v of vehicles) {
      const isReachable = reachable.has(String(v._id));
      if (!isReachable) unreachable++;
      // An erased owner is not sought out again (docs/outcomes.md): no episode, so no rule acts.
      if (!isReachable && !v.unreachableSince && !v.ownerErasedAt) start.push(v._id);
      if (isReachable && v.unreachableSince) end.push(v._id);
    }
    if (start.length > 0)
      await VehicleModel.updateMany(
        { corpId, _id: { $in: start }, unreachableSince: { $exists: false } },
        { $set: { unreachableSince: now } },
      );
    if (end.length > 0)
      await VehicleModel.updateMany({ corpId, _id: { $in: end } }, { $unset: { unreachableSince: 1 } });
    started += start.length;
    ended.push(...end);
    if (vehicles.length < CHUNK) break;
  }
  return { unreachable, started, ended };
}
