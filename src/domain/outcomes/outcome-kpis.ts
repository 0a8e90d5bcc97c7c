import { dayjs } from '../../infra/clock.js';
import type { Types } from 'mongoose';
import { AdvisorModel } from '../customers/advisor.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { TaskModel } from '../tasks/task.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { AttributionModel } from './attribution.model.js';
import { NoShowModel } from './no-show.model.js';
import { OutcomeModel } from './outcome.model.js';
import { loadOutcomeSettings } from './outcome-settings.js';

/** The result metrics of the cockpit, with the definitions the console shows on hover (docs/outcomes.md, "KPIs"). */
export const OUTCOME_KPI_DEFINITIONS = {
  returnRate:
    '回厂率: owners (linked vehicles) with at least one repair order in the 12 months before the end of the range / owners',
  firstMaintenanceRate:
    '首保到店率: vehicles delivered 3–15 months before the end of the range that have a first-maintenance repair order / those vehicles',
  renewalRate:
    '续保率: vehicles whose policy ended in the range and that have a later policy / vehicles whose policy ended in the range',
  bookedArrivedRate:
    'booked → arrived: "appointment booked" tasks of the range followed by a repair order within the no-show window / those whose window has closed',
  noShows: 'bookings of the range without an arrival within the no-show window (a follow-up task each), per advisor',
  connectableRate:
    '可连接率: DMS vehicles whose owner has an active WeCom relationship with the dealer / all DMS vehicles',
  dormantOwners:
    "owners whose last repair order (or delivery, without one) is older than the corp's dormant threshold (12 months unless changed)",
  attributedRevenue:
    'revenue of outcomes in the range credited to a touch (last touch), and organic revenue (no touch in the window)',
} as const;

/** The numerators and denominators behind the rates, so levels above a dealer add up exactly. */
export interface OutcomeCounts {
  owners: number;
  returned: number;
  firstMaintenanceDue: number;
  firstMaintenanceArrived: number;
  policiesEnding: number;
  renewed: number;
  closedBookings: number;
  arrivedBookings: number;
}

export interface OutcomeKpis {
  corpId: string;
  from: string;
  to: string;
  /** The advisors whose owners and work were counted (absent: the whole dealer). */
  advisors?: string[];
  owners: number;
  returnRate: number;
  firstMaintenanceRate: number;
  renewalRate: number;
  bookedArrivedRate: number;
  noShows: { total: number; byAdvisor: Record<string, number> };
  connectable: { vehicles: number; connectable: number; rate: number };
  dormantOwners: number;
  revenue: { attributed: number; organic: number };
  counts: OutcomeCounts;
  funnel: FunnelRow[];
  definitions: typeof OUTCOME_KPI_DEFINITIONS;
}

export interface FunnelRow {
  key: string;
  touched: number;
  booked: number;
  arrived: number;
  revenue: number;
}

/** A car maker's figures: the sum over its dealers, with one row per dealer (docs/outcomes.md, "KPIs by level"). */
export interface CarMakerOutcomeKpis extends OutcomeKpis {
  dealers: Array<Omit<OutcomeKpis, 'definitions' | 'funnel' | 'from' | 'to'>>;
}

/** Who an outcome figure is narrowed to: these advisors' owners and work (undefined: the whole dealer). */
export interface OutcomeKpiScope {
  advisors?: readonly string[];
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 10_000) / 10_000);
const cents = (n: number) => Math.round(n * 100) / 100;
/** The dev server's planner turns at most this many `$in` values into index ranges (docs/dev-mongo.md). */
const IN_CHUNK = 1000;

async function inChunks<V, T>(values: readonly V[], read: (chunk: V[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < values.length; i += IN_CHUNK) out.push(...(await read(values.slice(i, i + IN_CHUNK))));
  return out;
}

/**
 * The advisors a result figure of one corp counts for: the scope's advisors (a manager's team, an
 * advisor themselves, a picked advisor), narrowed to the members of `department` in that corp;
 * undefined = the whole dealer.
 */
export async function scopeAdvisors(
  corpId: string,
  scope: { advisors?: readonly string[]; department?: number },
): Promise<string[] | undefined> {
  if (scope.department === undefined) return scope.advisors ? [...new Set(scope.advisors)] : undefined;
  const members = (
    await AdvisorModel.find({ corpId, departments: scope.department }, { userid: 1 }).limit(5000).lean()
  ).map((m) => m.userid);
  return scope.advisors ? members.filter((m) => scope.advisors?.includes(m)) : members;
}

/**
 * Who owns what (docs/outcomes.md, "KPIs by level"): a customer belongs to their responsible
 * advisor (docs/architecture.md §4: the advisor of the active relationship, else the vehicle's
 * sales advisor); a vehicle to its linked customer's advisor, else its DMS sales advisor.
 */
async function ownerAdvisors(corpId: string, customerIds: readonly Types.ObjectId[]): Promise<Map<string, string>> {
  const rows = await inChunks(customerIds, (chunk) =>
    CustomerModel.find({ corpId, _id: { $in: chunk } }, { responsibleUserid: 1 }).lean(),
  );
  return new Map(rows.flatMap((c) => (c.responsibleUserid ? [[String(c._id), c.responsibleUserid]] : [])));
}

/**
 * Computes the result KPIs of one corp for `[from, to)` from the stored facts (vehicles, outcomes,
 * tasks, attributions, no-shows), for the whole dealer or narrowed to some advisors' owners and
 * work (`scope`). `funnelBy` groups the funnel by rule or advisor. Repair orders are read over the
 * bounded range the metrics look at (the longest of 15 months, 12 months and the dormant
 * threshold before `to`), never the dealer's whole history.
 */
export async function outcomeKpis(
  corpId: string,
  from: Date,
  to: Date,
  funnelBy: 'rule' | 'advisor' = 'rule',
  scope: OutcomeKpiScope = {},
): Promise<OutcomeKpis> {
  const settings = await loadOutcomeSettings(corpId);
  const only = scope.advisors ? new Set(scope.advisors) : undefined;
  const [allVehicles, attributionRows] = await Promise.all([
    VehicleModel.find({ corpId }, { vin: 1, customerId: 1, deliveryDate: 1, salesUserid: 1 }).lean(),
    AttributionModel.find(
      { corpId, occurredAt: { $gte: from, $lt: to } },
      { organic: 1, revenue: 1, touch: 1, customerId: 1 },
    ).lean(),
  ]);
  let vehicles = allVehicles;
  let attributions = attributionRows;
  if (only) {
    const ids = new Map<string, Types.ObjectId>();
    for (const v of allVehicles) if (v.customerId) ids.set(String(v.customerId), v.customerId);
    for (const a of attributionRows) if (a.customerId) ids.set(String(a.customerId), a.customerId);
    const responsible = await ownerAdvisors(corpId, [...ids.values()]);
    const salesOf = new Map<string, string>();
    for (const v of allVehicles) if (v.customerId && v.salesUserid) salesOf.set(String(v.customerId), v.salesUserid);
    const customerIn = (id: unknown) =>
      id !== undefined && id !== null && only.has(responsible.get(String(id)) ?? salesOf.get(String(id)) ?? '');
    vehicles = allVehicles.filter((v) =>
      v.customerId && responsible.has(String(v.customerId)) ? customerIn(v.customerId) : only.has(v.salesUserid ?? ''),
    );
    attributions = attributionRows.filter((a) => customerIn(a.customerId));
  }
  const owned = vehicles.filter((v) => v.customerId);
  const scopedVins = only ? new Set(vehicles.map((v) => v.vin)) : undefined;

  const yearBefore = dayjs(to).subtract(12, 'month').toDate().getTime();
  const fmFrom = dayjs(to).subtract(15, 'month').toDate();
  const fmTo = dayjs(to).subtract(3, 'month').toDate();
  const dormantBefore = dayjs(to).subtract(settings.dormantMonths, 'month').toDate();
  const lower = new Date(Math.min(yearBefore, fmFrom.getTime(), dormantBefore.getTime()));
  const roFilter = { corpId, type: 'repair_order' as const, status: 'active' as const };
  const roProjection = { vin: 1, occurredAt: 1, roType: 1 };
  const ros =
    scopedVins && scopedVins.size <= 5 * IN_CHUNK
      ? await inChunks([...scopedVins], (vins) =>
          OutcomeModel.find(
            { ...roFilter, vin: { $in: vins }, occurredAt: { $gte: lower, $lt: to } },
            roProjection,
          ).lean(),
        )
      : await OutcomeModel.find({ ...roFilter, occurredAt: { $gte: lower, $lt: to } }, roProjection).lean();
  const lastRo = new Map<string, number>();
  const firstMaint = new Set<string>();
  for (const r of ros) {
    if (!r.vin) continue;
    if ((lastRo.get(r.vin) ?? 0) < r.occurredAt.getTime()) lastRo.set(r.vin, r.occurredAt.getTime());
    if (r.roType === 'first_maintenance') firstMaint.add(r.vin);
  }
  const returned = owned.filter((v) => (lastRo.get(v.vin) ?? 0) >= yearBefore).length;
  const fmDue = vehicles.filter((v) => v.deliveryDate && v.deliveryDate >= fmFrom && v.deliveryDate < fmTo);
  // Dormant: the last repair order (or the delivery, without one) before the threshold. An owner
  // without a repair order in the range read may still have an older one: asked for those only.
  const undecided = owned.filter((v) => !lastRo.has(v.vin) && !(v.deliveryDate && v.deliveryDate < dormantBefore));
  const older = new Set(
    await inChunks(
      undecided.map((v) => v.vin),
      async (vins) =>
        (await OutcomeModel.distinct('vin', {
          ...roFilter,
          vin: { $in: vins },
          occurredAt: { $lt: lower },
        })) as string[],
    ),
  );
  const dormant = owned.filter((v) => {
    const last = lastRo.get(v.vin);
    if (last !== undefined) return last < dormantBefore.getTime();
    return older.has(v.vin) || Boolean(v.deliveryDate && v.deliveryDate < dormantBefore);
  }).length;

  // Renewal: a policy ending in the range is renewed when the same VIN has a policy ending later.
  const policies = await OutcomeModel.find(
    { corpId, type: 'insurance_policy', status: 'active', policyEnd: { $gte: from } },
    { vin: 1, policyEnd: 1 },
  ).lean();
  const latestEnd = new Map<string, number>();
  for (const p of policies) {
    const k = String(p.vin);
    latestEnd.set(k, Math.max(latestEnd.get(k) ?? 0, p.policyEnd?.getTime() ?? 0));
  }
  const ending = policies.filter(
    (p) =>
      p.policyEnd &&
      p.policyEnd < to &&
      (!scopedVins || (p.vin !== undefined && p.vin !== null && scopedVins.has(p.vin))),
  );
  const renewed = ending.filter((p) => (latestEnd.get(String(p.vin)) ?? 0) > (p.policyEnd?.getTime() ?? 0)).length;

  const activeCustomers = new Set(
    (await RelationshipModel.distinct('customerId', { corpId, status: 'active' })).map(String),
  );
  const connectable = vehicles.filter((v) => v.customerId && activeCustomers.has(String(v.customerId))).length;

  const advisorFilter = scope.advisors ? { advisorUserid: { $in: [...scope.advisors] } } : {};
  const [tasks, noShowDocs] = await Promise.all([
    TaskModel.find(
      { corpId, status: 'done', completedAt: { $gte: from, $lt: to }, ...advisorFilter },
      { ruleId: 1, advisorUserid: 1, outcome: 1, completedAt: 1 },
    ).lean(),
    NoShowModel.find({ corpId, bookedAt: { $gte: from, $lt: to }, ...advisorFilter }, { advisorUserid: 1 }).lean(),
  ]);
  const windowClosed = dayjs(to).subtract(settings.noShowDays, 'day').toDate();
  const closedBookings = tasks.filter(
    (t) => t.outcome === 'appointment_booked' && (t.completedAt as Date) <= windowClosed,
  ).length;
  const arrivedBookings = Math.max(0, closedBookings - noShowDocs.length);
  const byAdvisor: Record<string, number> = {};
  for (const n of noShowDocs) byAdvisor[n.advisorUserid] = (byAdvisor[n.advisorUserid] ?? 0) + 1;

  const funnel = new Map<string, FunnelRow>();
  const row = (key: string) => {
    let r = funnel.get(key);
    if (!r) funnel.set(key, (r = { key, touched: 0, booked: 0, arrived: 0, revenue: 0 }));
    return r;
  };
  for (const t of tasks) {
    const r = row(funnelBy === 'rule' ? String(t.ruleId ?? 'manual') : t.advisorUserid);
    r.touched++;
    if (t.outcome === 'appointment_booked') r.booked++;
  }
  let attributed = 0;
  let organic = 0;
  for (const a of attributions) {
    if (a.organic || !a.touch) {
      organic += a.revenue;
      continue;
    }
    attributed += a.revenue;
    const r = row(funnelBy === 'rule' ? String(a.touch.ruleId ?? 'manual') : (a.touch.advisorUserid ?? 'unknown'));
    r.arrived++;
    r.revenue += a.revenue;
  }
  for (const r of funnel.values()) r.revenue = cents(r.revenue);
  const counts: OutcomeCounts = {
    owners: owned.length,
    returned,
    firstMaintenanceDue: fmDue.length,
    firstMaintenanceArrived: fmDue.filter((v) => firstMaint.has(v.vin)).length,
    policiesEnding: ending.length,
    renewed,
    closedBookings,
    arrivedBookings,
  };
  return {
    corpId,
    from: from.toISOString(),
    to: to.toISOString(),
    ...(scope.advisors ? { advisors: [...scope.advisors].sort() } : {}),
    ...ratesOf(counts),
    noShows: { total: noShowDocs.length, byAdvisor },
    connectable: { vehicles: vehicles.length, connectable, rate: ratio(connectable, vehicles.length) },
    dormantOwners: dormant,
    revenue: { attributed: cents(attributed), organic: cents(organic) },
    counts,
    funnel: sortFunnel([...funnel.values()]),
    definitions: OUTCOME_KPI_DEFINITIONS,
  };
}

function ratesOf(c: OutcomeCounts) {
  return {
    owners: c.owners,
    returnRate: ratio(c.returned, c.owners),
    firstMaintenanceRate: ratio(c.firstMaintenanceArrived, c.firstMaintenanceDue),
    renewalRate: ratio(c.renewed, c.policiesEnding),
    bookedArrivedRate: ratio(c.arrivedBookings, c.closedBookings),
  };
}

const sortFunnel = (rows: FunnelRow[]) => rows.sort((a, b) => b.revenue - a.revenue || a.key.localeCompare(b.key));

/**
 * A car maker's result KPIs: every count of its dealers added up and the rates recomputed from
 * the sums (never an average of rates), plus one row per dealer. Advisor keys (no-shows, the
 * funnel by advisor) are prefixed with the dealer's corp id, since userids are per corp.
 */
export function combineOutcomeKpis(
  perDealer: readonly OutcomeKpis[],
  from: Date,
  to: Date,
  funnelBy: 'rule' | 'advisor',
): CarMakerOutcomeKpis {
  const counts: OutcomeCounts = {
    owners: 0,
    returned: 0,
    firstMaintenanceDue: 0,
    firstMaintenanceArrived: 0,
    policiesEnding: 0,
    renewed: 0,
    closedBookings: 0,
    arrivedBookings: 0,
  };
  const byAdvisor: Record<string, number> = {};
  const funnel = new Map<string, FunnelRow>();
  let vehicles = 0;
  let connectable = 0;
  let dormant = 0;
  let noShows = 0;
  let attributed = 0;
  let organic = 0;
  for (const d of perDealer) {
    for (const k of Object.keys(counts) as Array<keyof OutcomeCounts>) counts[k] += d.counts[k];
    for (const [a, n] of Object.entries(d.noShows.byAdvisor)) byAdvisor[`${d.corpId}:${a}`] = n;
    for (const r of d.funnel) {
      const key = funnelBy === 'advisor' ? `${d.corpId}:${r.key}` : r.key;
      const sum = funnel.get(key) ?? { key, touched: 0, booked: 0, arrived: 0, revenue: 0 };
      funnel.set(key, {
        key,
        touched: sum.touched + r.touched,
        booked: sum.booked + r.booked,
        arrived: sum.arrived + r.arrived,
        revenue: cents(sum.revenue + r.revenue),
      });
    }
    vehicles += d.connectable.vehicles;
    connectable += d.connectable.connectable;
    dormant += d.dormantOwners;
    noShows += d.noShows.total;
    attributed += d.revenue.attributed;
    organic += d.revenue.organic;
  }
  return {
    corpId: '*',
    from: from.toISOString(),
    to: to.toISOString(),
    ...ratesOf(counts),
    noShows: { total: noShows, byAdvisor },
    connectable: { vehicles, connectable, rate: ratio(connectable, vehicles) },
    dormantOwners: dormant,
    revenue: { attributed: cents(attributed), organic: cents(organic) },
    counts,
    funnel: sortFunnel([...funnel.values()]),
    definitions: OUTCOME_KPI_DEFINITIONS,
    dealers: perDealer.map(({ definitions: _d, funnel: _f, from: _from, to: _to, ...rest }) => rest),
  };
}

/**
 * DMS vehicles whose owner the dealer cannot reach on WeCom (no linked customer, or no active
 * relationship), for "add this owner on WeCom" work: VIN and the responsible sales advisor.
 */
export async function unreachableOwners(
  corpId: string,
  limit = 200,
): Promise<{ total: number; items: Array<{ vin: string; salesUserid?: string; linked: boolean }> }> {
  const activeCustomers = new Set(
    (await RelationshipModel.distinct('customerId', { corpId, status: 'active' })).map(String),
  );
  const vehicles = await VehicleModel.find({ corpId }, { vin: 1, customerId: 1, salesUserid: 1 })
    .sort({ vin: 1 })
    .lean();
  const items = vehicles
    .filter((v) => !v.customerId || !activeCustomers.has(String(v.customerId)))
    .map((v) => ({
      vin: v.vin,
      linked: Boolean(v.customerId),
      ...(v.salesUserid ? { salesUserid: v.salesUserid } : {}),
    }));
  return { total: items.length, items: items.slice(0, limit) };
}
