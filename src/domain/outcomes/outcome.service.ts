import { createHash } from 'node:crypto';
import type { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import { CustomerModel } from '../customers/customer.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { upsertVehicle, type VehicleDeps } from '../vehicles/vehicle.service.js';
import { attributeOutcome } from './attribution.service.js';
import { MAINTENANCE_RO_TYPES, type OutcomeInput } from './outcome-input.js';
import { OutcomeModel, type OutcomeLean } from './outcome.model.js';
import { loadOutcomeSettings, type OutcomeSettings } from './outcome-settings.js';
import { returnFromDormancy } from './dormancy.service.js';

export interface OutcomeDeps extends VehicleDeps {
  logger?: Logger;
  /** The corp's outcome settings when the caller already read them (a batch reads them once). */
  settings?: OutcomeSettings;
}

export type ReceivedVia = 'api' | 'import' | 'webhook' | 'simulator';

export type OutcomeResult =
  | {
      status: 'created' | 'updated' | 'unchanged' | 'stale';
      externalId: string;
      outcomeId: string;
      version: number;
      matchedBy: 'vin' | 'mobile' | 'none';
    }
  | { status: 'rejected'; externalId: string; problems: Array<{ path: string; message: string }> };

/** A calendar date is midnight in the corp's zone; a date-time is taken as given. */
function instant(value: string | undefined, timeZone: string): Date | undefined {
  if (!value) return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? dayjs.tz(value, timeZone).toDate() : new Date(value);
}

/** The version order key: the version first, then a hash of the content, so equal versions with different content still converge. */
export function orderKeyOf(input: OutcomeInput): string {
  const hash = createHash('sha256')
    .update(JSON.stringify(Object.entries(input).sort(([a], [b]) => a.localeCompare(b))))
    .digest('base64url')
    .slice(0, 16);
  return `${String(input.version).padStart(12, '0')}.${hash}`;
}

/** VIN → vehicle (→ its customer), else the mobile's keyed hash → the one customer with it in a remark. */
async function matchOutcome(
  deps: OutcomeDeps,
  input: OutcomeInput,
): Promise<{ matchedBy: 'vin' | 'mobile' | 'none'; customerId?: Types.ObjectId; vehicleId?: Types.ObjectId }> {
  if (input.vin) {
    const v = await VehicleModel.findOne({ corpId: deps.corpId, vin: input.vin }, { _id: 1, customerId: 1 }).lean();
    if (v?.customerId) return { matchedBy: 'vin', customerId: v.customerId, vehicleId: v._id };
    if (v && !input.mobile) return { matchedBy: 'none', vehicleId: v._id };
  }
  if (input.mobile) {
    const ids = await RelationshipModel.distinct('customerId', {
      corpId: deps.corpId,
      remarkMobileHashes: deps.pd.hash('mobile', input.mobile),
    });
    if (ids.length === 1) {
      const c = await CustomerModel.findById(ids[0], { _id: 1 }).lean();
      if (c) return { matchedBy: 'mobile', customerId: c._id };
    }
  }
  return { matchedBy: 'none' };
}

function revenueOf(input: OutcomeInput): number {
  if (input.type === 'repair_order')
    return Math.round(((input.labourAmount ?? 0) + (input.partsAmount ?? 0)) * 100) / 100;
  if (input.type === 'insurance_policy') return input.premium ?? 0;
  if (input.type === 'vehicle_sale') return input.saleAmount ?? 0;
  return 0;
}

/**
 * Stores one outcome idempotently (docs/outcomes.md, "Versions"): keyed by corp + source +
 * externalId, the highest (version, content hash) wins, so repeated and out-of-order deliveries
 * end in the same state. Then, even for an unchanged or stale delivery (a crash between the two
 * steps is repaired by the redelivery), the vehicle's anchors follow the stored outcomes and the
 * outcome is attributed. Returns after everything is written (the webhook's 2xx means durable).
 */
export async function upsertOutcome(deps: OutcomeDeps, input: OutcomeInput, via: ReceivedVia): Promise<OutcomeResult> {
  const orderKey = orderKeyOf(input);
  const key = { corpId: deps.corpId, source: input.source, externalId: input.externalId };
  const existing = await OutcomeModel.findOne(key, { orderKey: 1 }).lean();
  let status: 'created' | 'updated' | 'unchanged' | 'stale';
  if (existing && existing.orderKey === orderKey) status = 'unchanged';
  else if (existing && existing.orderKey > orderKey) status = 'stale';
  else {
    const match = await matchOutcome(deps, input);
    const { mobile, ...rest } = input;
    const doc = {
      ...rest,
      ...key,
      orderKey,
      occurredAt: instant(input.occurredAt, deps.timeZone),
      closedAt: instant(input.closedAt, deps.timeZone),
      policyEnd: instant(input.policyEnd, deps.timeZone),
      mobileHash: mobile ? deps.pd.hash('mobile', mobile) : undefined,
      ...match,
      revenue: revenueOf(input),
      receivedVia: via,
      receivedAt: deps.now(),
    };
    const unset = Object.fromEntries(
      Object.entries(doc)
        .filter(([, v]) => v === undefined)
        .map(([k]) => [k, 1]),
    );
    const set = Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined));
    try {
      const res = await OutcomeModel.updateOne(
        { ...key, orderKey: { $lt: orderKey } },
        { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
        { upsert: true },
      );
      status =
        res.upsertedCount > 0 ? 'created' : res.modifiedCount > 0 || res.matchedCount > 0 ? 'updated' : 'unchanged';
    } catch (err) {
      // A newer version (or this one) arrived concurrently: the unique index refused the insert.
      if ((err as { code?: number }).code !== 11000) throw err;
      const now = await OutcomeModel.findOne(key, { orderKey: 1 }).lean();
      status = now?.orderKey === orderKey ? 'unchanged' : 'stale';
    }
  }
  const stored = await OutcomeModel.findOne(key).lean<OutcomeLean>();
  if (!stored) throw new Error('outcome upsert returned nothing');
  await applyVehicleAnchors(deps, stored);
  await attributeOutcome(deps, stored, deps.settings);
  if (stored.type === 'repair_order' && stored.status === 'active' && stored.customerId)
    await returnFromDormancy(
      deps.corpId,
      [stored.customerId],
      deps.settings ?? (await loadOutcomeSettings(deps.corpId)),
      deps.now(),
    );
  return {
    status,
    externalId: input.externalId,
    outcomeId: String(stored._id),
    version: stored.version,
    matchedBy: stored.matchedBy as 'vin' | 'mobile' | 'none',
  };
}

const localDay = (d: Date, tz: string) => dayjs(d).tz(tz).format('YYYY-MM-DD');

/**
 * The vehicle follows its outcomes (docs/outcomes.md, "Anchors"): the newest active maintenance
 * repair order is its last service date, the highest reported mileage its mileage, the latest
 * active policy end its insurance expiry. Only moves forward past what the DMS import set,
 * except that a cancelled outcome which had moved a date hands it back to the newest remaining
 * one. Changes go through upsertVehicle, so `customer.anchor_changed` re-plans date rules.
 */
export async function applyVehicleAnchors(deps: OutcomeDeps, outcome: OutcomeLean): Promise<void> {
  if (!outcome.vin || (outcome.type !== 'repair_order' && outcome.type !== 'insurance_policy')) return;
  const vehicle = await VehicleModel.findOne({ corpId: deps.corpId, vin: outcome.vin }).lean();
  if (!vehicle) return;
  const base = { corpId: deps.corpId, vin: outcome.vin, status: 'active' as const };
  const patch: {
    vin: string;
    lastServiceDate?: string;
    mileageKm?: number;
    mileageDate?: string;
    insuranceExpiry?: string;
  } = { vin: outcome.vin };
  if (outcome.type === 'repair_order') {
    const [newest] = await OutcomeModel.find(
      { ...base, type: 'repair_order', roType: { $in: [...MAINTENANCE_RO_TYPES] } },
      { occurredAt: 1 },
    )
      .sort({ occurredAt: -1 })
      .limit(1)
      .lean();
    const current = vehicle.lastServiceDate?.getTime() ?? 0;
    const cancelledHere = outcome.status === 'cancelled' && current === outcome.occurredAt.getTime();
    if (newest && (newest.occurredAt.getTime() > current || cancelledHere))
      patch.lastServiceDate = localDay(newest.occurredAt, deps.timeZone);
    const [topMileage] = await OutcomeModel.find(
      { ...base, type: 'repair_order', mileageKm: { $gt: vehicle.mileageKm ?? -1 } },
      { mileageKm: 1, occurredAt: 1 },
    )
      .sort({ mileageKm: -1 })
      .limit(1)
      .lean();
    if (topMileage?.mileageKm !== undefined && topMileage.mileageKm !== null) {
      patch.mileageKm = topMileage.mileageKm;
      patch.mileageDate = localDay(topMileage.occurredAt, deps.timeZone);
    }
  } else {
    const [latest] = await OutcomeModel.find({ ...base, type: 'insurance_policy' }, { policyEnd: 1 })
      .sort({ policyEnd: -1 })
      .limit(1)
      .lean();
    const current = vehicle.insuranceExpiry?.getTime() ?? 0;
    const cancelledHere = outcome.status === 'cancelled' && current === outcome.policyEnd?.getTime();
    if (latest?.policyEnd && (latest.policyEnd.getTime() > current || cancelledHere))
      patch.insuranceExpiry = localDay(latest.policyEnd, deps.timeZone);
  }
  if (Object.keys(patch).length > 1) await upsertVehicle(deps, patch, 'api');
}
