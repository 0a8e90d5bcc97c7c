import { createHash } from 'node:crypto';
import type { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import type { Queues } from '../../queues/queue-factory.js';
import { withOutbox, type EventRecorder } from '../events/outbox.js';
import { CustomerModel } from '../customers/customer.model.js';
import type { PersonalData } from '../customers/personal-data.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { VEHICLE_ANCHORS, type VehicleAnchor, type VehicleInput } from './vehicle-input.js';
import { VehicleModel } from './vehicle.model.js';

export interface VehicleDeps {
  corpId: string;
  timeZone: string;
  pd: PersonalData;
  queues: Queues;
  now: () => Date;
}

export type VehicleOutcome =
  | {
      status: 'created' | 'updated' | 'unchanged';
      vin: string;
      vehicleId: string;
      linked: boolean;
      customerId?: Types.ObjectId;
    }
  | { status: 'rejected'; vin: string; problems: Array<{ path: string; message: string }> };

/** Calendar date in the corp's zone → the UTC instant of its local midnight. */
function localDate(value: string | undefined, timeZone: string): Date | undefined {
  return value ? dayjs.tz(value, timeZone).toDate() : undefined;
}

/**
 * Finds the customer a vehicle belongs to: external_userid, else unionid, else a remark mobile
 * through the keyed-hash index. An ambiguous mobile (two customers) links nobody and says so.
 */
async function resolveCustomer(
  deps: VehicleDeps,
  input: VehicleInput,
): Promise<{ customerId?: Types.ObjectId; externalUserId?: string; problem?: { path: string; message: string } }> {
  if (input.externalUserId) {
    const c = await CustomerModel.findOne(
      { corpId: deps.corpId, externalUserId: input.externalUserId },
      { _id: 1, externalUserId: 1 },
    ).lean();
    return c
      ? { customerId: c._id, externalUserId: c.externalUserId }
      : { problem: { path: '/externalUserId', message: 'no customer with this external_userid in this corp' } };
  }
  if (input.unionid) {
    const c = await CustomerModel.findOne(
      { corpId: deps.corpId, unionidHash: deps.pd.hash('unionid', input.unionid) },
      { _id: 1, externalUserId: 1 },
    ).lean();
    if (c) return { customerId: c._id, externalUserId: c.externalUserId };
  }
  if (input.mobile) {
    const ids = await RelationshipModel.distinct('customerId', {
      corpId: deps.corpId,
      remarkMobileHashes: deps.pd.hash('mobile', input.mobile),
    });
    if (ids.length > 1)
      return {
        problem: {
          path: '/mobile',
          message: `${ids.length} customers have this mobile in their remarks; link by externalUserId instead`,
        },
      };
    if (ids.length === 1) {
      const c = await CustomerModel.findById(ids[0], { _id: 1, externalUserId: 1 }).lean();
      if (c) return { customerId: c._id, externalUserId: c.externalUserId };
    }
  }
  return {};
}

const sameDate = (a: Date | null | undefined, b: Date | undefined) => (a?.getTime() ?? null) === (b?.getTime() ?? null);

/**
 * Creates or updates one vehicle and links it. Unchanged input changes and emits nothing (a
 * re-import is a no-op). A new link emits `vehicle.linked`; a changed delivery, service or
 * insurance date of a linked vehicle emits `customer.anchor_changed`. Event source ids derive
 * from the new values, so retrying the same request cannot emit twice.
 */
export async function upsertVehicle(
  deps: VehicleDeps,
  input: VehicleInput,
  source: 'api' | 'import',
): Promise<VehicleOutcome> {
  const link = await resolveCustomer(deps, input);
  if (link.problem) return { status: 'rejected', vin: input.vin, problems: [link.problem] };

  const fields = {
    model: input.model,
    deliveryDate: localDate(input.deliveryDate, deps.timeZone),
    mileageKm: input.mileageKm,
    mileageAt: localDate(input.mileageDate, deps.timeZone),
    lastServiceDate: localDate(input.lastServiceDate, deps.timeZone),
    insuranceExpiry: localDate(input.insuranceExpiry, deps.timeZone),
    salesUserid: input.salesUserid,
  };
  const existing = await VehicleModel.findOne({ corpId: deps.corpId, vin: input.vin }).lean();
  // Absent input fields keep what is stored (partial DMS updates); an absent link keeps the link.
  const next = {
    model: fields.model ?? existing?.model ?? undefined,
    deliveryDate: fields.deliveryDate ?? existing?.deliveryDate ?? undefined,
    mileageKm: fields.mileageKm ?? existing?.mileageKm ?? undefined,
    mileageAt: fields.mileageAt ?? existing?.mileageAt ?? undefined,
    lastServiceDate: fields.lastServiceDate ?? existing?.lastServiceDate ?? undefined,
    insuranceExpiry: fields.insuranceExpiry ?? existing?.insuranceExpiry ?? undefined,
    salesUserid: fields.salesUserid ?? existing?.salesUserid ?? undefined,
    customerId: link.customerId ?? existing?.customerId ?? undefined,
    externalUserId: link.externalUserId ?? existing?.externalUserId ?? undefined,
  };
  const newlyLinked = Boolean(next.customerId) && String(next.customerId) !== String(existing?.customerId ?? '');
  const changedAnchors =
    existing?.customerId && !newlyLinked ? VEHICLE_ANCHORS.filter((a) => !sameDate(existing[a], next[a])) : [];
  const unchanged =
    existing &&
    !newlyLinked &&
    changedAnchors.length === 0 &&
    existing.model === next.model &&
    existing.mileageKm === next.mileageKm &&
    sameDate(existing.mileageAt, next.mileageAt) &&
    existing.salesUserid === next.salesUserid;
  if (existing && unchanged)
    return {
      status: 'unchanged',
      vin: input.vin,
      vehicleId: String(existing._id),
      linked: Boolean(existing.customerId),
      customerId: existing.customerId ?? undefined,
    };

  const now = deps.now();
  // The events go into the outbox with the vehicle (docs/reliability.md, "Domain events: the outbox").
  const saved = await withOutbox(deps, async (events) => {
    const stored = await VehicleModel.findOneAndUpdate(
      { corpId: deps.corpId, vin: input.vin },
      { $set: { ...stripUndefined(next), ...(newlyLinked ? { linkedAt: now } : {}) }, $setOnInsert: { source } },
      { upsert: true, returnDocument: 'after', runValidators: true },
    ).lean();
    if (!stored) throw new Error('vehicle upsert returned nothing');
    recordVehicleEvents(events, {
      corpId: deps.corpId,
      now,
      vin: input.vin,
      vehicleId: String(stored._id),
      next,
      newlyLinked,
      changedAnchors,
    });
    return stored;
  });
  return {
    status: existing ? 'updated' : 'created',
    vin: input.vin,
    vehicleId: String(saved._id),
    linked: Boolean(next.customerId),
    customerId: next.customerId,
  };
}

type VehicleState = {
  model?: string;
  deliveryDate?: Date;
  mileageKm?: number;
  mileageAt?: Date;
  lastServiceDate?: Date;
  insuranceExpiry?: Date;
  salesUserid?: string;
  customerId?: Types.ObjectId;
  externalUserId?: string;
};

/**
 * The events of one vehicle change, recorded in the change's outbox transaction: `vehicle.linked`
 * for a new link, `customer.anchor_changed` per moved anchor. Source ids derive from the new state,
 * so the same change recorded again (a retry, a replayed delivery) is stored once.
 */
function recordVehicleEvents(
  events: EventRecorder,
  change: {
    corpId: string;
    now: Date;
    vin: string;
    vehicleId: string;
    next: VehicleState;
    newlyLinked: boolean;
    changedAnchors: readonly VehicleAnchor[];
  },
): void {
  const { next, vin } = change;
  const version = createHash('sha256').update(JSON.stringify(next)).digest('base64url').slice(0, 16);
  const base = {
    corpId: change.corpId,
    occurredAt: change.now.toISOString(),
    customerId: next.customerId ? String(next.customerId) : undefined,
    externalUserId: next.externalUserId,
    vehicleId: change.vehicleId,
  };
  if (change.newlyLinked) {
    events.record({
      ...base,
      type: 'vehicle.linked',
      sourceId: `vehicle-${vin}-${String(next.customerId)}`,
      data: { vin, model: next.model ?? null },
    });
  }
  for (const anchor of change.changedAnchors) {
    events.record(
      { ...base, type: 'customer.anchor_changed', sourceId: `vehicle-${vin}-${version}`, data: { field: anchor, vin } },
      anchor,
    );
  }
}

/** What outcomes may move on a vehicle (docs/outcomes.md, "Anchors"). */
export interface VehicleAnchorPatch {
  lastServiceDate?: Date;
  mileageKm?: number;
  mileageAt?: Date;
  insuranceExpiry?: Date;
}

type StoredVehicle = Awaited<ReturnType<typeof loadVehicles>>[number];

/** The stored vehicles of these VINs, one query. */
export async function loadVehicles(corpId: string, vins: readonly string[]) {
  return vins.length === 0 ? [] : VehicleModel.find({ corpId, vin: { $in: [...vins] } }).lean();
}

/**
 * Applies anchor patches to many stored vehicles in one outbox transaction (one bulkWrite, the
 * events with it): the batched counterpart of `upsertVehicle` for fields outcomes move, with the
 * same events and source ids. A patch that changes nothing is skipped. Returns how many vehicles changed.
 */
export async function applyVehicleAnchorPatches(
  deps: VehicleDeps,
  changes: ReadonlyArray<{ vehicle: StoredVehicle; patch: VehicleAnchorPatch }>,
): Promise<number> {
  const now = deps.now();
  const writes = changes.flatMap(({ vehicle, patch }) => {
    const next: VehicleState = {
      model: vehicle.model ?? undefined,
      deliveryDate: vehicle.deliveryDate ?? undefined,
      mileageKm: patch.mileageKm ?? vehicle.mileageKm ?? undefined,
      mileageAt: patch.mileageAt ?? vehicle.mileageAt ?? undefined,
      lastServiceDate: patch.lastServiceDate ?? vehicle.lastServiceDate ?? undefined,
      insuranceExpiry: patch.insuranceExpiry ?? vehicle.insuranceExpiry ?? undefined,
      salesUserid: vehicle.salesUserid ?? undefined,
      customerId: vehicle.customerId ?? undefined,
      externalUserId: vehicle.externalUserId ?? undefined,
    };
    const changedAnchors = vehicle.customerId ? VEHICLE_ANCHORS.filter((a) => !sameDate(vehicle[a], next[a])) : [];
    const unchanged =
      changedAnchors.length === 0 &&
      vehicle.mileageKm === next.mileageKm &&
      sameDate(vehicle.mileageAt, next.mileageAt);
    return unchanged ? [] : [{ vehicle, next, changedAnchors }];
  });
  if (writes.length === 0) return 0;
  await withOutbox(deps, async (events) => {
    await VehicleModel.bulkWrite(
      writes.map(({ vehicle, next }) => ({
        updateOne: {
          filter: { corpId: deps.corpId, vin: vehicle.vin },
          update: {
            $set: stripUndefined({
              mileageKm: next.mileageKm,
              mileageAt: next.mileageAt,
              lastServiceDate: next.lastServiceDate,
              insuranceExpiry: next.insuranceExpiry,
            }),
          },
        },
      })),
      { ordered: true },
    );
    for (const { vehicle, next, changedAnchors } of writes)
      recordVehicleEvents(events, {
        corpId: deps.corpId,
        now,
        vin: vehicle.vin,
        vehicleId: String(vehicle._id),
        next,
        newlyLinked: false,
        changedAnchors,
      });
  });
  return writes.length;
}

function stripUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
