import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { emptyCounters, type Counters } from '../../domain/kpis/kpi-counters.js';
import { KpiDailyModel } from '../../domain/kpis/kpi-daily.model.js';
import { rollupPeriods } from '../../domain/kpis/period-rollup.service.js';
import { addDays } from '../../domain/kpis/kpi-days.js';
import { METRIC_KEYS } from '../../domain/kpis/kpi-types.js';
import { plantBookings } from '../../domain/outcomes/no-show.test-support.js';
import { CORP_A, CORP_B, bearer, useApiHarness } from './api.test-support.js';

const h = useApiHarness('kpis-api');
const as = bearer;
const get = (path: string, token: string) => request(h.app.callback()).get(path).set(as(token));
const WEEK = '2026-05-04'; // a Monday; history: the 8 weeks before

async function daily(corpId: string, advisorUserid: string, departments: number[], day: string, c: Partial<Counters>) {
  await KpiDailyModel.create({
    corpId,
    day,
    advisorUserid,
    departments,
    counters: { ...emptyCounters(), ...c },
    dueToDone: {},
    addedByState: {},
    asOf: new Date(),
  });
}

beforeAll(async () => {
  await AdvisorModel.create([
    { corpId: CORP_A, userid: 'wangqiang', name: '王强', departments: [2], leadsDepartments: [2] },
    { corpId: CORP_A, userid: 'zhangwei', name: '张伟', departments: [2] },
    { corpId: CORP_A, userid: 'lina', name: '=HYPERLINK("x")', departments: [2] },
    { corpId: CORP_A, userid: 'chenjing', name: '陈静', departments: [3] },
    { corpId: CORP_A, userid: 'a4', departments: [3] },
    { corpId: CORP_A, userid: 'a5', departments: [3] },
    { corpId: CORP_B, userid: 'bob', departments: [2] },
  ]);
  // 9 weeks × one day per week: every advisor ~90 % on time on 20 tasks; zhangwei collapses to 30 % in WEEK.
  const advisors: Array<[string, number[]]> = [
    ['zhangwei', [2]],
    ['lina', [2]],
    ['chenjing', [3]],
    ['a4', [3]],
    ['a5', [3]],
    ['wangqiang', [2]],
  ];
  for (let w = -8; w <= 0; w++) {
    const day = addDays(WEEK, 7 * w + 1);
    for (const [i, [userid, deps]] of advisors.entries()) {
      const onTime = userid === 'zhangwei' && w === 0 ? 6 : 17 + ((i + w) % 3);
      await daily(CORP_A, userid, deps, day, {
        tasksDue: 20,
        tasksDecided: 20,
        tasksDoneOnTime: onTime,
        tasksDoneLate: 20 - onTime - (userid === 'zhangwei' && w === 0 ? 9 : 0),
        tasksOverdue: userid === 'zhangwei' && w === 0 ? 9 : 0,
        customersAdded: 3,
      });
    }
  }
  await daily(CORP_B, 'bob', [2], addDays(WEEK, 1), { tasksDue: 7, tasksDecided: 7, tasksDoneOnTime: 7 });
  // As the rollup does after writing days: their weeks and months.
  const days = Array.from({ length: 9 }, (_, k) => addDays(WEEK, 7 * (k - 8) + 1));
  await rollupPeriods(CORP_A, days);
  await rollupPeriods(CORP_B, [addDays(WEEK, 1)]);
});

describe('/api/v1/kpis (cockpit)', () => {
  it('definitions: one per metric key, zh and en', async () => {
    const res = await get('/api/v1/kpis/definitions', await h.token('advisor', [CORP_A], 'zhangwei')).expect(200);
    expect(res.body.definitions.map((d: { key: string }) => d.key)).toEqual([...METRIC_KEYS]);
    for (const d of res.body.definitions) expect(d.definition.zh.length && d.definition.en.length).toBeGreaterThan(0);
  });

  it('a dealer admin sees the whole corp from the rollups; groupBy corp/department; another corp is a 404', async () => {
    const admin = await h.token('dealer_admin', [CORP_A]);
    const res = await get(
      `/api/v1/kpis/overview?corpId=${CORP_A}&from=${WEEK}&to=${addDays(WEEK, 7)}&groupBy=advisor`,
      admin,
    ).expect(200);
    expect(res.headers['x-kpi-docs-read']).toBe('6');
    expect(res.body.rows.map((r: { unit: { id: string } }) => r.unit.id).sort()).toEqual(
      ['a4', 'a5', 'chenjing', 'lina', 'wangqiang', 'zhangwei'].map((u) => `${CORP_A}:${u}`).sort(),
    );
    expect(res.body.totals.tasks_due).toBe(120);
    const zhang = res.body.rows.find((r: { unit: { id: string } }) => r.unit.id === `${CORP_A}:zhangwei`);
    expect(zhang.unit.label).toBe('张伟');
    expect(zhang.values).toMatchObject({ tasks_due: 20, on_time_rate: 0.3, tasks_overdue: 9 });
    const depts = await get(
      `/api/v1/kpis/overview?corpId=${CORP_A}&from=${WEEK}&to=${addDays(WEEK, 7)}&groupBy=department`,
      admin,
    ).expect(200);
    expect(
      depts.body.rows.map((r: { unit: { id: string }; values: { tasks_due: number } }) => [
        r.unit.id,
        r.values.tasks_due,
      ]),
    ).toEqual([
      [`${CORP_A}:2`, 60],
      [`${CORP_A}:3`, 60],
    ]);
    const quarter = await get(
      `/api/v1/kpis/overview?corpId=${CORP_A}&from=${addDays(WEEK, -56)}&to=${addDays(WEEK, 7)}&granularity=week&groupBy=corp`,
      admin,
    ).expect(200);
    expect(quarter.body.series).toHaveLength(9);
    expect(quarter.body.rows).toHaveLength(1);
    await get(`/api/v1/kpis/overview?corpId=${CORP_B}&from=${WEEK}&to=${addDays(WEEK, 7)}`, admin).expect(404);
  });

  it('tells the latest day with data in the scope, so an empty range can move there', async () => {
    const later = `from=${addDays(WEEK, 28)}&to=${addDays(WEEK, 35)}`;
    const admin = await h.token('dealer_admin', [CORP_A]);
    const empty = await get(`/api/v1/kpis/overview?corpId=${CORP_A}&${later}`, admin).expect(200);
    expect(empty.body.rows).toEqual([]);
    expect(empty.body.latestDay).toBe(addDays(WEEK, 1));
    // Scoped like the figures: an advisor's own days; a department without data has none.
    await KpiDailyModel.create({
      corpId: CORP_A,
      advisorUserid: 'chenjing',
      departments: [3],
      day: addDays(WEEK, 3),
      counters: { ...emptyCounters(), tasksDue: 1 },
      dueToDone: {},
      addedByState: {},
      asOf: new Date(),
    });
    try {
      const dept3 = await get(`/api/v1/kpis/overview?corpId=${CORP_A}&department=3&${later}`, admin).expect(200);
      expect(dept3.body.latestDay).toBe(addDays(WEEK, 3));
      const dept2 = await get(`/api/v1/kpis/overview?corpId=${CORP_A}&department=2&${later}`, admin).expect(200);
      expect(dept2.body.latestDay).toBe(addDays(WEEK, 1));
      const zhang = await h.token('advisor', [CORP_A], 'zhangwei');
      const own = await get(`/api/v1/kpis/overview?corpId=${CORP_A}&${later}`, zhang).expect(200);
      expect(own.body.latestDay).toBe(addDays(WEEK, 1));
      const none = await get(`/api/v1/kpis/overview?corpId=${CORP_A}&department=9&${later}`, admin).expect(200);
      expect(none.body.latestDay).toBeUndefined();
    } finally {
      await KpiDailyModel.deleteOne({ corpId: CORP_A, advisorUserid: 'chenjing', day: addDays(WEEK, 3) });
    }
  });

  it('the planted collapse is flagged in the overview and in the weekly anomalies, with words and a drill-down', async () => {
    const admin = await h.token('dealer_admin', [CORP_A]);
    const res = await get(`/api/v1/kpis/anomalies?corpId=${CORP_A}&week=${WEEK}`, admin).expect(200);
    const flag = res.body.flags.find((f: { unit: { id: string } }) => f.unit.id === `${CORP_A}:zhangwei`);
    expect(flag).toMatchObject({ metric: 'on_time_rate', direction: 'low', value: 0.3, volume: 20 });
    expect(flag.explanation.en).toContain('张伟');
    expect(flag.drillDown).toMatchObject({ path: '/tasks', query: { advisor: 'zhangwei', overdue: 'true' } });
    expect(res.body.flags.filter((f: { unit: { id: string } }) => f.unit.id !== `${CORP_A}:zhangwei`)).toEqual([]);
    const o = await get(
      `/api/v1/kpis/overview?corpId=${CORP_A}&from=${addDays(WEEK, -56)}&to=${addDays(WEEK, 7)}&granularity=week`,
      admin,
    ).expect(200);
    expect(
      o.body.rows
        .find((r: { unit: { id: string } }) => r.unit.id === `${CORP_A}:zhangwei`)
        .flags.map((f: { metric: string }) => f.metric),
    ).toEqual(['on_time_rate']);
  });

  it("an advisor's no-show jump is in the anomalies answer as no_show_rate; customer ids only for customer readers", async () => {
    // A week whose 14-day windows closed before the harness's now (2026-05-10): 陈静 10 % → 45 %.
    const week = '2026-04-13';
    for (let w = -8; w <= 0; w++)
      for (const [i, userid] of ['zhangwei', 'lina', 'chenjing', 'a4', 'a5'].entries()) {
        const jump = userid === 'chenjing' && w === 0;
        await plantBookings(CORP_A, userid, addDays(week, 7 * w), 20, jump ? 9 : 1 + ((i + w + 9) % 3));
      }
    const admin = await h.token('dealer_admin', [CORP_A]);
    const res = await get(`/api/v1/kpis/anomalies?corpId=${CORP_A}&week=${week}`, admin).expect(200);
    const flags = res.body.flags.filter((f: { metric: string }) => f.metric === 'no_show_rate');
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ unit: { id: `${CORP_A}:chenjing` }, value: 0.45, volume: 20, direction: 'high' });
    expect(flags[0].explanation.en).toContain('9 of 20 bookings did not arrive');
    expect(flags[0].drillDown.noShows).toHaveLength(9);
    expect(flags[0].drillDown.noShows[0].customerId).toMatch(/^[a-f0-9]{24}$/);
    const analyst = await h.token('analyst', []);
    const figures = await get(`/api/v1/kpis/anomalies?corpId=${CORP_A}&week=${week}`, analyst).expect(200);
    const [figuresFlag] = figures.body.flags.filter((f: { metric: string }) => f.metric === 'no_show_rate');
    expect(figuresFlag.drillDown.noShows).toHaveLength(9);
    expect(figuresFlag.drillDown.noShows.some((n: object) => 'customerId' in n)).toBe(false);
    // 陈静 is in department 3: not the manager of department 2's to see.
    const manager = await h.token('manager', [CORP_A], 'wangqiang');
    const mgr = await get(`/api/v1/kpis/anomalies?corpId=${CORP_A}&week=${week}`, manager).expect(200);
    expect(mgr.body.flags.filter((f: { metric: string }) => f.metric === 'no_show_rate')).toEqual([]);
    const o = await get(
      `/api/v1/kpis/overview?corpId=${CORP_A}&from=${addDays(week, -56)}&to=${addDays(week, 7)}&granularity=week`,
      admin,
    ).expect(200);
    expect(
      o.body.rows
        .find((r: { unit: { id: string } }) => r.unit.id === `${CORP_A}:chenjing`)
        .flags.map((f: { metric: string }) => f.metric),
    ).toEqual(['no_show_rate']);
    const csv = await get(
      `/api/v1/kpis/overview.csv?corpId=${CORP_A}&from=${addDays(week, -56)}&to=${addDays(week, 7)}&granularity=week`,
      admin,
    ).expect(200);
    expect(csv.text.split('\n').find((l) => l.startsWith(`advisor,${CORP_A}:chenjing,`))).toMatch(/,no_show_rate$/);
  });

  it('managers see their departments only; advisors themselves only; oem sees every dealer corp', async () => {
    const manager = await h.token('manager', [CORP_A], 'wangqiang');
    const res = await get(`/api/v1/kpis/overview?corpId=${CORP_A}&from=${WEEK}&to=${addDays(WEEK, 7)}`, manager).expect(
      200,
    );
    expect(res.body.rows.map((r: { unit: { id: string } }) => r.unit.id).sort()).toEqual([
      `${CORP_A}:lina`,
      `${CORP_A}:wangqiang`,
      `${CORP_A}:zhangwei`,
    ]);
    await get(
      `/api/v1/kpis/overview?corpId=${CORP_A}&from=${WEEK}&to=${addDays(WEEK, 7)}&advisor=chenjing`,
      manager,
    ).expect(403);
    await get(
      `/api/v1/kpis/overview?corpId=${CORP_A}&from=${WEEK}&to=${addDays(WEEK, 7)}&department=3`,
      manager,
    ).expect(403);
    const mgrFlags = await get(`/api/v1/kpis/anomalies?corpId=${CORP_A}&week=${WEEK}`, manager).expect(200);
    expect(mgrFlags.body.flags.every((f: { unit: { kind: string } }) => f.unit.kind === 'advisor')).toBe(true);

    const advisor = await h.token('advisor', [CORP_A], 'lina');
    const mine = await get(
      `/api/v1/kpis/overview?corpId=${CORP_A}&from=${WEEK}&to=${addDays(WEEK, 7)}`,
      advisor,
    ).expect(200);
    expect(mine.body.rows.map((r: { unit: { id: string } }) => r.unit.id)).toEqual([`${CORP_A}:lina`]);
    await get(
      `/api/v1/kpis/overview?corpId=${CORP_A}&from=${WEEK}&to=${addDays(WEEK, 7)}&advisor=zhangwei`,
      advisor,
    ).expect(403);

    const oem = await h.token('oem', []);
    const all = await get(`/api/v1/kpis/overview?from=${WEEK}&to=${addDays(WEEK, 7)}&groupBy=corp`, oem).expect(200);
    expect(
      all.body.rows.map((r: { unit: { id: string }; values: { tasks_due: number } }) => [
        r.unit.id,
        r.values.tasks_due,
      ]),
    ).toEqual([
      [CORP_A, 120],
      [CORP_B, 7],
    ]);
  });

  it('bad input is a 422 that says what to fix', async () => {
    const admin = await h.token('dealer_admin', [CORP_A]);
    const bad = async (qs: string, text: string) => {
      const res = await get(`/api/v1/kpis/overview?corpId=${CORP_A}&${qs}`, admin).expect(422);
      expect(JSON.stringify(res.body)).toContain(text);
    };
    await bad('from=2026-02-30&to=2026-03-05', 'YYYY-MM-DD');
    await bad('from=2026-03-05&to=2026-03-05', 'from must be before to');
    await bad('from=2025-01-01&to=2026-03-05', 'at most 400 days');
    await bad('from=2026-03-01&to=2026-03-05&groupBy=team', 'groupBy must be corp, department or advisor');
    await bad('from=2026-03-01&to=2026-03-05&granularity=year', 'granularity must be day, week or month');
    const res = await get(`/api/v1/kpis/anomalies?corpId=${CORP_A}&week=2026-05-05`, admin).expect(422);
    expect(JSON.stringify(res.body)).toContain('Monday');
  });

  it('CSV: the same rows, spreadsheet formulas neutralised', async () => {
    const admin = await h.token('dealer_admin', [CORP_A]);
    const csv = await get(
      `/api/v1/kpis/overview.csv?corpId=${CORP_A}&from=${WEEK}&to=${addDays(WEEK, 7)}`,
      admin,
    ).expect(200);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toContain('on_time_rate');
    expect(lines).toHaveLength(7);
    expect(csv.text).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv.text).not.toMatch(/(^|,)=HYPERLINK/m);
  });
});
