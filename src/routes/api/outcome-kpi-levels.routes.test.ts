import { Types } from 'mongoose';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { RelationshipModel } from '../../domain/customers/relationship.model.js';
import { AttributionModel } from '../../domain/outcomes/attribution.model.js';
import { NoShowModel } from '../../domain/outcomes/no-show.model.js';
import { OutcomeModel } from '../../domain/outcomes/outcome.model.js';
import { TaskModel } from '../../domain/tasks/task.model.js';
import { VehicleModel } from '../../domain/vehicles/vehicle.model.js';
import { CORP_A, CORP_B, bearer, useApiHarness } from './api.test-support.js';

/**
 * The result KPIs at each level (docs/outcomes.md, "KPIs by level"): an advisor's owners and
 * work, a department, the dealer, the car maker (sum of its dealers with a row per dealer), and
 * the role scoping, on a small seeded dealer whose every figure is worked out by hand below.
 */
const h = useApiHarness('outcome-kpi-levels');
const get = (path: string, token: string) => request(h.app.callback()).get(path).set(bearer(token));
const RANGE = 'from=2026-05-01T00:00:00%2B08:00&to=2026-06-01T00:00:00%2B08:00';
const d = (iso: string) => new Date(iso);
const vin = (n: number) => `LSVAB2180E21000${String(n).padStart(2, '0')}`;

let seq = 0;
async function outcome(corpId: string, o: Record<string, unknown>) {
  seq++;
  return OutcomeModel.create({
    corpId,
    source: 'dms',
    externalId: `X-${seq}`,
    version: 1,
    orderKey: '1',
    status: 'active',
    matchedBy: 'vin',
    revenue: 0,
    receivedVia: 'api',
    receivedAt: d('2026-06-01T00:00:00Z'),
    ...o,
  });
}
async function owner(corpId: string, ext: string, responsible: string, active: boolean) {
  const c = await CustomerModel.create({ corpId, externalUserId: ext, responsibleUserid: responsible });
  await RelationshipModel.create({
    corpId,
    userid: responsible,
    externalUserId: ext,
    customerId: c._id,
    status: active ? 'active' : 'deleted_by_customer',
  });
  return c._id;
}
async function booking(corpId: string, advisorUserid: string, completedAt: string, noShow: boolean) {
  const at = d(completedAt);
  const task = await TaskModel.create({
    corpId,
    customerId: new Types.ObjectId(),
    advisorUserid,
    title: 'invite',
    dueAt: at,
    slaMs: 1,
    ladder: { escalateAfterMs: 1, flagAfterMs: 2 },
    remindAt: at,
    status: 'done',
    outcome: 'appointment_booked',
    completedAt: at,
  });
  if (noShow)
    await NoShowModel.create({
      corpId,
      taskId: task._id,
      advisorUserid,
      bookedAt: at,
      windowEnd: d('2026-05-20T00:00:00Z'),
      detectedAt: d('2026-05-21T00:00:00Z'),
    });
}
async function credit(
  corpId: string,
  ro: { _id: Types.ObjectId; customerId?: Types.ObjectId | null },
  revenue: number,
  by?: string,
) {
  await AttributionModel.create({
    corpId,
    outcomeId: ro._id,
    outcomeType: 'repair_order',
    customerId: ro.customerId,
    occurredAt: d('2026-05-15T00:00:00Z'),
    revenue,
    windowDays: 30,
    organic: !by,
    predicted: false,
    touches: by ? 1 : 0,
    computedAt: d('2026-05-31T00:00:00Z'),
    ...(by ? { touch: { kind: 'task', refId: 't', at: d('2026-05-05T00:00:00Z'), advisorUserid: by } } : {}),
  });
}

beforeAll(async () => {
  await AdvisorModel.create([
    { corpId: CORP_A, userid: 'wangqiang', departments: [2], leadsDepartments: [2] },
    { corpId: CORP_A, userid: 'zhangwei', departments: [2] },
    { corpId: CORP_A, userid: 'lina', departments: [2] },
    { corpId: CORP_A, userid: 'chenjing', departments: [3] },
    { corpId: CORP_B, userid: 'bob', departments: [2] },
  ]);
  // Dealer A. zhangwei: owner 1 (V1, returned, policy renewed), V4 unlinked (his sale).
  // lina: owner 2 (V2, delivered 2024, no repair order: dormant; policy not renewed).
  // chenjing: owner 3 (V3, delivered 2025-08, first maintenance in May; relationship lost).
  const c1 = await owner(CORP_A, 'wmO1', 'zhangwei', true);
  const c2 = await owner(CORP_A, 'wmO2', 'lina', true);
  const c3 = await owner(CORP_A, 'wmO3', 'chenjing', false);
  await VehicleModel.create([
    { corpId: CORP_A, vin: vin(1), customerId: c1, source: 'import', deliveryDate: d('2023-01-01T00:00:00Z') },
    { corpId: CORP_A, vin: vin(2), customerId: c2, source: 'import', deliveryDate: d('2024-01-01T00:00:00Z') },
    { corpId: CORP_A, vin: vin(3), customerId: c3, source: 'import', deliveryDate: d('2025-08-01T00:00:00Z') },
    { corpId: CORP_A, vin: vin(4), source: 'import', salesUserid: 'zhangwei' },
  ]);
  const ro1 = await outcome(CORP_A, {
    type: 'repair_order',
    roType: 'maintenance',
    occurredAt: d('2026-05-10T02:00:00Z'),
    vin: vin(1),
    customerId: c1,
    revenue: 500,
  });
  const ro3 = await outcome(CORP_A, {
    type: 'repair_order',
    roType: 'first_maintenance',
    occurredAt: d('2026-05-20T02:00:00Z'),
    vin: vin(3),
    customerId: c3,
    revenue: 300,
  });
  for (const [v, end] of [
    [vin(1), '2026-05-15T00:00:00Z'],
    [vin(1), '2027-05-15T00:00:00Z'],
    [vin(2), '2026-05-20T00:00:00Z'],
  ] as const)
    await outcome(CORP_A, {
      type: 'insurance_policy',
      occurredAt: d('2025-05-15T00:00:00Z'),
      vin: v,
      policyEnd: d(end),
    });
  await credit(CORP_A, ro1, 500, 'zhangwei');
  await credit(CORP_A, ro3, 300);
  // Bookings closed by the end of the range (no-show window 14 days): zhangwei's arrived, lina's did not.
  await booking(CORP_A, 'zhangwei', '2026-05-05T02:00:00Z', false);
  await booking(CORP_A, 'lina', '2026-05-06T02:00:00Z', true);

  // Dealer B: bob's one owner, returned, organic revenue 200.
  const cb = await owner(CORP_B, 'wmB1', 'bob', true);
  await VehicleModel.create({ corpId: CORP_B, vin: vin(9), customerId: cb, source: 'import' });
  const rob = await outcome(CORP_B, {
    type: 'repair_order',
    roType: 'repair',
    occurredAt: d('2026-05-12T02:00:00Z'),
    vin: vin(9),
    customerId: cb,
    revenue: 200,
  });
  await credit(CORP_B, rob, 200);
});

const figures = (b: Record<string, unknown>) => ({
  owners: b.owners,
  returnRate: b.returnRate,
  firstMaintenanceRate: b.firstMaintenanceRate,
  renewalRate: b.renewalRate,
  bookedArrivedRate: b.bookedArrivedRate,
  noShows: b.noShows,
  connectable: b.connectable,
  dormantOwners: b.dormantOwners,
  revenue: b.revenue,
});

describe('result KPIs by level', () => {
  it('the dealer: every owner and every booking of the corp', async () => {
    const res = await get(`/api/v1/kpis/outcomes?corpId=${CORP_A}&${RANGE}`, await h.token('dealer_admin', [CORP_A]));
    expect(res.status).toBe(200);
    expect(figures(res.body)).toEqual({
      owners: 3,
      returnRate: 0.6667,
      firstMaintenanceRate: 1,
      renewalRate: 0.5,
      bookedArrivedRate: 0.5,
      noShows: { total: 1, byAdvisor: { lina: 1 } },
      connectable: { vehicles: 4, connectable: 2, rate: 0.5 },
      dormantOwners: 1,
      revenue: { attributed: 500, organic: 300 },
    });
    expect(res.body.advisors).toBeUndefined();
    expect(res.body.counts).toMatchObject({ owners: 3, returned: 2, policiesEnding: 2, renewed: 1, closedBookings: 2 });
  });

  it('an advisor: their customers, the vehicles they sold that no customer is linked to, their bookings', async () => {
    const res = await get(`/api/v1/kpis/outcomes?${RANGE}`, await h.token('advisor', [CORP_A], 'zhangwei'));
    expect(res.status).toBe(200);
    expect(res.body.advisors).toEqual(['zhangwei']);
    expect(figures(res.body)).toEqual({
      owners: 1,
      returnRate: 1,
      firstMaintenanceRate: 0,
      renewalRate: 1,
      bookedArrivedRate: 1,
      noShows: { total: 0, byAdvisor: {} },
      connectable: { vehicles: 2, connectable: 1, rate: 0.5 },
      dormantOwners: 0,
      revenue: { attributed: 500, organic: 0 },
    });
    // A dealer admin picking the same advisor sees the same figures.
    const picked = await get(
      `/api/v1/kpis/outcomes?corpId=${CORP_A}&advisor=zhangwei&${RANGE}`,
      await h.token('dealer_admin', [CORP_A]),
    );
    expect(figures(picked.body)).toEqual(figures(res.body));
  });

  it('a department: the manager sees the departments they lead; a dealer admin picks one', async () => {
    const manager = await h.token('manager', [CORP_A], 'wangqiang');
    const mine = await get(`/api/v1/kpis/outcomes?corpId=${CORP_A}&${RANGE}`, manager);
    expect(mine.status).toBe(200);
    expect(figures(mine.body)).toEqual({
      owners: 2,
      returnRate: 0.5,
      firstMaintenanceRate: 0,
      renewalRate: 0.5,
      bookedArrivedRate: 0.5,
      noShows: { total: 1, byAdvisor: { lina: 1 } },
      connectable: { vehicles: 3, connectable: 2, rate: 0.6667 },
      dormantOwners: 1,
      revenue: { attributed: 500, organic: 0 },
    });
    const dept3 = await get(
      `/api/v1/kpis/outcomes?corpId=${CORP_A}&department=3&${RANGE}`,
      await h.token('dealer_admin', [CORP_A]),
    );
    expect(dept3.body.advisors).toEqual(['chenjing']);
    expect(figures(dept3.body)).toEqual({
      owners: 1,
      returnRate: 1,
      firstMaintenanceRate: 1,
      renewalRate: 0,
      bookedArrivedRate: 0,
      noShows: { total: 0, byAdvisor: {} },
      connectable: { vehicles: 1, connectable: 0, rate: 0 },
      dormantOwners: 0,
      revenue: { attributed: 0, organic: 300 },
    });
  });

  it('the car maker: the sum of its dealers (rates from the summed counts) with a row per dealer', async () => {
    const res = await get(`/api/v1/kpis/outcomes?${RANGE}`, await h.token('oem', []));
    expect(res.status).toBe(200);
    expect(res.body.corpId).toBe('*');
    expect(figures(res.body)).toEqual({
      owners: 4,
      returnRate: 0.75,
      firstMaintenanceRate: 1,
      renewalRate: 0.5,
      bookedArrivedRate: 0.5,
      noShows: { total: 1, byAdvisor: { [`${CORP_A}:lina`]: 1 } },
      connectable: { vehicles: 5, connectable: 3, rate: 0.6 },
      dormantOwners: 1,
      revenue: { attributed: 500, organic: 500 },
    });
    const rows = res.body.dealers as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.corpId, r.owners, r.returnRate])).toEqual([
      [CORP_A, 3, 0.6667],
      [CORP_B, 1, 1],
    ]);
    // Naming a dealer gives that dealer alone, as before.
    const one = await get(`/api/v1/kpis/outcomes?corpId=${CORP_B}&${RANGE}`, await h.token('oem', []));
    expect(one.body.corpId).toBe(CORP_B);
    expect(one.body.dealers).toBeUndefined();
  });

  it('scoping: an advisor cannot ask for another advisor, a manager not for another department, nobody for another corp', async () => {
    const advisor = await h.token('advisor', [CORP_A], 'zhangwei');
    expect((await get(`/api/v1/kpis/outcomes?advisor=lina&${RANGE}`, advisor)).status).toBe(403);
    const manager = await h.token('manager', [CORP_A], 'wangqiang');
    expect((await get(`/api/v1/kpis/outcomes?corpId=${CORP_A}&department=3&${RANGE}`, manager)).status).toBe(403);
    expect((await get(`/api/v1/kpis/outcomes?corpId=${CORP_A}&advisor=chenjing&${RANGE}`, manager)).status).toBe(403);
    const admin = await h.token('dealer_admin', [CORP_A]);
    expect((await get(`/api/v1/kpis/outcomes?corpId=${CORP_B}&${RANGE}`, admin)).status).toBe(404);
    const bad = await get(`/api/v1/kpis/outcomes?corpId=${CORP_A}&department=x&${RANGE}`, admin);
    expect(bad.status).toBe(422);
  });
});
