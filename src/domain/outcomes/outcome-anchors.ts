import {
  applyVehicleAnchorPatches,
  type loadVehicles,
  type VehicleAnchorPatch,
  type VehicleDeps,
} from '../vehicles/vehicle.service.js';
import { localDates } from './local-dates.js';
import { MAINTENANCE_RO_TYPES } from './outcome-input.js';
import { OutcomeModel, type OutcomeLean } from './outcome.model.js';

type StoredVehicle = Awaited<ReturnType<typeof loadVehicles>>[number];

const MAINTENANCE = new Set<string>(MAINTENANCE_RO_TYPES);
const later = (a: Date | undefined, b: Date | undefined) => (!a ? b : !b ? a : a >= b ? a : b);
const ms = (d: Date | null | undefined) => d?.getTime() ?? 0;

/**
 * The vehicles follow their outcomes (docs/outcomes.md, "Anchors"), for a batch of stored
 * outcomes at once: per VIN the newest active maintenance repair order is the last service date,
 * the highest reported mileage the mileage, the latest active policy end the insurance expiry.
 * Dates only move forward past what the vehicle holds (every stored outcome moved its vehicle
 * when it was stored, so the batch's own outcomes are the only candidates), except that a
 * cancelled outcome which holds a date hands it back to the newest remaining one (read from the
 * VIN's outcomes, one query for all such VINs). All moves are written in one outbox transaction,
 * `customer.anchor_changed` with them. Also applied for unchanged and stale deliveries, so a
 * redelivery repairs a crash between the outcome write and this step.
 */
export async function applyOutcomeAnchors(
  deps: VehicleDeps,
  outcomes: readonly OutcomeLean[],
  vehicles: ReadonlyMap<string, StoredVehicle>,
): Promise<number> {
  const byVin = new Map<string, OutcomeLean[]>();
  for (const o of outcomes) {
    if (!o.vin || (o.type !== 'repair_order' && o.type !== 'insurance_policy') || !vehicles.has(o.vin)) continue;
    byVin.set(o.vin, [...(byVin.get(o.vin) ?? []), o]);
  }
  // A calendar day's local midnight: what the vehicle stores (the DMS import stores dates the same way).
  const { midnightOf } = localDates(deps.timeZone);
  const handBack = { service: new Set<string>(), insurance: new Set<string>() };
  const patches = new Map<string, VehicleAnchorPatch>();
  for (const [vin, list] of byVin) {
    const vehicle = vehicles.get(vin) as StoredVehicle;
    const patch: VehicleAnchorPatch = {};
    let service: Date | undefined;
    let insurance: Date | undefined;
    let mileage: { km: number; at: Date } | undefined;
    for (const o of list) {
      if (o.status === 'cancelled') {
        if (o.type === 'repair_order' && ms(vehicle.lastServiceDate) === o.occurredAt.getTime())
          handBack.service.add(vin);
        if (o.type === 'insurance_policy' && o.policyEnd && ms(vehicle.insuranceExpiry) === o.policyEnd.getTime())
          handBack.insurance.add(vin);
        continue;
      }
      if (o.status !== 'active') continue;
      if (o.type === 'repair_order') {
        if (o.roType && MAINTENANCE.has(o.roType)) service = later(service, o.occurredAt);
        const km = o.mileageKm ?? undefined;
        if (km !== undefined && km > (vehicle.mileageKm ?? -1) && km > (mileage?.km ?? -1))
          mileage = { km, at: o.occurredAt };
      } else if (o.policyEnd) insurance = later(insurance, o.policyEnd);
    }
    if (service && midnightOf(service) > new Date(ms(vehicle.lastServiceDate)))
      patch.lastServiceDate = midnightOf(service);
    if (insurance && midnightOf(insurance) > new Date(ms(vehicle.insuranceExpiry)))
      patch.insuranceExpiry = midnightOf(insurance);
    if (mileage) {
      patch.mileageKm = mileage.km;
      patch.mileageAt = midnightOf(mileage.at);
    }
    patches.set(vin, patch);
  }
  await handBackCancelled(deps, handBack, patches, midnightOf);
  return applyVehicleAnchorPatches(
    deps,
    [...patches].map(([vin, patch]) => ({ vehicle: vehicles.get(vin) as StoredVehicle, patch })),
  );
}

/** A cancelled outcome held the date: the newest remaining active one takes over (when there is one). */
async function handBackCancelled(
  deps: VehicleDeps,
  handBack: { service: Set<string>; insurance: Set<string> },
  patches: Map<string, VehicleAnchorPatch>,
  midnightOf: (at: Date) => Date,
): Promise<void> {
  const vins = [...new Set([...handBack.service, ...handBack.insurance])];
  if (vins.length === 0) return;
  const remaining = await OutcomeModel.find(
    { corpId: deps.corpId, vin: { $in: vins }, status: 'active', type: { $in: ['repair_order', 'insurance_policy'] } },
    { vin: 1, type: 1, roType: 1, occurredAt: 1, policyEnd: 1 },
  ).lean();
  const newest = { service: new Map<string, Date>(), insurance: new Map<string, Date>() };
  for (const o of remaining) {
    if (!o.vin) continue;
    if (o.type === 'repair_order' && o.roType && MAINTENANCE.has(o.roType))
      newest.service.set(o.vin, later(newest.service.get(o.vin), o.occurredAt) as Date);
    if (o.type === 'insurance_policy' && o.policyEnd)
      newest.insurance.set(o.vin, later(newest.insurance.get(o.vin), o.policyEnd) as Date);
  }
  for (const vin of handBack.service) {
    const date = newest.service.get(vin);
    if (date) (patches.get(vin) as VehicleAnchorPatch).lastServiceDate = midnightOf(date);
  }
  for (const vin of handBack.insurance) {
    const date = newest.insurance.get(vin);
    if (date) (patches.get(vin) as VehicleAnchorPatch).insuranceExpiry = midnightOf(date);
  }
}
