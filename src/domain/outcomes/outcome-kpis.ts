import { dayjs } from '../../infra/clock.js';
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

export interface OutcomeKpis {
  corpId: string;
  from: string;
  to: string;
  owners: number;
  returnRate: number;
  firstMaintenanceRate: number;
  renewalRate: number;
  bookedArrivedRate: number;
  noShows: { total: number; byAdvisor: Record<string, number> };
  connectable: { vehicles: number; connectable: number; rate: number };
  dormantOwners: number;
  revenue: { attributed: number; organic: number };
  funnel: Array<{ key: string; touched: number; booked: number; arrived: number; revenue: number }>;
  definitions: typeof OUTCOME_KPI_DEFINITIONS;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 10_000) / 10_000);

/**
 * Computes the result KPIs of one corp for `[from, to)` from the stored facts (vehicles, outcomes,
 * tasks, attributions, no-shows). `funnelBy` groups the funnel by rule or advisor.
 */
export async function outcomeKpis(
  corpId: string,
  from: Date,
  to: Date,
  funnelBy: 'rule' | 'advisor' = 'rule',
): Promise<OutcomeKpis> {
  const settings = await loadOutcomeSettings(corpId);
  const yearBefore = dayjs(to).subtract(12, 'month').toDate();
  const vehicles = await VehicleModel.find({ corpId }, { vin: 1, customerId: 1, deliveryDate: 1 }).lean();
  const owned = vehicles.filter((v) => v.customerId);
  const ros = await OutcomeModel.find(
    { corpId, type: 'repair_order', status: 'active', vin: { $exists: true } },
    { vin: 1, occurredAt: 1, roType: 1 },
  ).lean();
  const lastRo = new Map<string, Date>();
  const firstMaint = new Set<string>();
  for (const r of ros) {
    if (!r.vin || r.occurredAt >= to) continue;
    if ((lastRo.get(r.vin)?.getTime() ?? 0) < r.occurredAt.getTime()) lastRo.set(r.vin, r.occurredAt);
    if (r.roType === 'first_maintenance') firstMaint.add(r.vin);
  }
  const returned = owned.filter((v) => (lastRo.get(v.vin)?.getTime() ?? 0) >= yearBefore.getTime()).length;
  const fmFrom = dayjs(to).subtract(15, 'month').toDate();
  const fmTo = dayjs(to).subtract(3, 'month').toDate();
  const fmDue = vehicles.filter((v) => v.deliveryDate && v.deliveryDate >= fmFrom && v.deliveryDate < fmTo);
  const dormantBefore = dayjs(to).subtract(settings.dormantMonths, 'month').toDate().getTime();
  const dormant = owned.filter(
    (v) =>
      (lastRo.get(v.vin) ?? v.deliveryDate)?.getTime() !== undefined &&
      ((lastRo.get(v.vin) ?? v.deliveryDate) as Date).getTime() < dormantBefore,
  ).length;

  const policies = await OutcomeModel.find(
    { corpId, type: 'insurance_policy', status: 'active' },
    { vin: 1, policyEnd: 1, occurredAt: 1 },
  ).lean();
  const ending = policies.filter((p) => p.policyEnd && p.policyEnd >= from && p.policyEnd < to);
  const renewed = ending.filter((p) =>
    policies.some(
      (q) => q.vin === p.vin && q._id !== p._id && (q.policyEnd?.getTime() ?? 0) > (p.policyEnd?.getTime() ?? 0),
    ),
  ).length;

  const activeCustomers = new Set(
    (await RelationshipModel.distinct('customerId', { corpId, status: 'active' })).map(String),
  );
  const connectable = vehicles.filter((v) => v.customerId && activeCustomers.has(String(v.customerId))).length;

  const tasks = await TaskModel.find(
    { corpId, status: 'done', completedAt: { $gte: from, $lt: to } },
    { ruleId: 1, advisorUserid: 1, outcome: 1, completedAt: 1 },
  ).lean();
  const windowClosed = dayjs(to).subtract(settings.noShowDays, 'day').toDate();
  const bookings = tasks.filter((t) => t.outcome === 'appointment_booked');
  const noShowDocs = await NoShowModel.find(
    { corpId, bookedAt: { $gte: from, $lt: to } },
    { advisorUserid: 1, taskId: 1 },
  ).lean();
  const closedBookings = bookings.filter((t) => (t.completedAt as Date) <= windowClosed).length;
  const byAdvisor: Record<string, number> = {};
  for (const n of noShowDocs) byAdvisor[n.advisorUserid] = (byAdvisor[n.advisorUserid] ?? 0) + 1;

  const attributions = await AttributionModel.find(
    { corpId, occurredAt: { $gte: from, $lt: to } },
    { organic: 1, revenue: 1, touch: 1 },
  ).lean();
  const funnel = new Map<string, { key: string; touched: number; booked: number; arrived: number; revenue: number }>();
  const row = (key: string) =>
    funnel.get(key) ??
    (funnel.set(key, { key, touched: 0, booked: 0, arrived: 0, revenue: 0 }).get(key) as {
      key: string;
      touched: number;
      booked: number;
      arrived: number;
      revenue: number;
    });
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
  return {
    corpId,
    from: from.toISOString(),
    to: to.toISOString(),
    owners: owned.length,
    returnRate: ratio(returned, owned.length),
    firstMaintenanceRate: ratio(fmDue.filter((v) => firstMaint.has(v.vin)).length, fmDue.length),
    renewalRate: ratio(renewed, ending.length),
    bookedArrivedRate: ratio(Math.max(0, closedBookings - noShowDocs.length), closedBookings),
    noShows: { total: noShowDocs.length, byAdvisor },
    connectable: { vehicles: vehicles.length, connectable, rate: ratio(connectable, vehicles.length) },
    dormantOwners: dormant,
    revenue: { attributed: Math.round(attributed * 100) / 100, organic: Math.round(organic * 100) / 100 },
    funnel: [...funnel.values()].sort((a, b) => b.revenue - a.revenue || a.key.localeCompare(b.key)),
    definitions: OUTCOME_KPI_DEFINITIONS,
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
