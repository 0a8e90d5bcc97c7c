import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../testing/mongo.js';
import { emptyCounters } from './kpi-counters.js';
import { KpiDailyModel } from './kpi-daily.model.js';
import { addDays, daysBetween } from './kpi-days.js';
import { KpiPeriodModel } from './kpi-period.model.js';
import { kpiOverview } from './overview.service.js';
import { rollupPeriods } from './period-rollup.service.js';

const CORP = 'wwperiodcorp01';
const DAYS = daysBetween('2026-05-01', '2026-07-01');
const ADVISORS = ['a1', 'a2', 'a3'];
let db: Awaited<ReturnType<typeof useTestDatabase>>;

beforeAll(async () => {
  db = await useTestDatabase('kpi-periods');
  await KpiDailyModel.insertMany(
    DAYS.flatMap((day, d) =>
      ADVISORS.map((advisorUserid, a) => ({
        corpId: CORP,
        day,
        advisorUserid,
        departments: [a + 1],
        asOf: new Date(),
        counters: {
          ...emptyCounters(),
          tasksDue: 3 + ((d + a) % 4),
          tasksDecided: 3,
          tasksDoneOnTime: (d + a) % 4 === 0 ? 1 : 3,
          customersAdded: a,
        },
        dueToDone: { [String(10 + (d % 5))]: 1 },
        addedByState: { delivery: a },
      })),
    ),
  );
  await rollupPeriods(CORP, DAYS);
});
afterAll(async () => {
  await db?.drop();
});

const overview = (from: string, to: string, granularity: 'day' | 'week' | 'month') =>
  kpiOverview({ corpIds: [CORP], from, to, granularity, groupBy: 'advisor' });
const rowsOf = (o: Awaited<ReturnType<typeof overview>>) => o.rows.map((r) => [r.unit.id, r.values]);

describe('week and month rollups', () => {
  it('hold the sums of their days, so a range by month reads 2 documents per advisor and gives the same numbers as 61 days', async () => {
    expect(await KpiPeriodModel.countDocuments({ corpId: CORP, granularity: 'month' })).toBe(6);
    const byMonth = await overview('2026-05-01', '2026-07-01', 'month');
    const byDay = await overview('2026-05-01', '2026-07-01', 'day');
    expect(byMonth.docsRead).toBe(6);
    expect(byDay.docsRead).toBe(61 * 3);
    expect(byMonth.totals).toEqual(byDay.totals);
    expect(rowsOf(byMonth)).toEqual(rowsOf(byDay));
    expect(byMonth.addedByState).toEqual(byDay.addedByState);
    expect(byMonth.series.map((p) => p.period)).toEqual(['2026-05-01', '2026-06-01']);
  });

  it('a range that cuts weeks reads whole weeks from the week rollups and the days at both edges', async () => {
    const byWeek = await overview('2026-05-06', '2026-06-20', 'week'); // Wed → Sat
    const byDay = await overview('2026-05-06', '2026-06-20', 'day');
    expect(byWeek.totals).toEqual(byDay.totals);
    expect(rowsOf(byWeek)).toEqual(rowsOf(byDay));
    // 5 edge days at the start (Wed 6 – Sun 10), 5 whole weeks (from Mon 11 May), 5 edge days at the end (Mon 15 – Fri 19 June).
    expect(byWeek.docsRead).toBe((5 + 5 + 5) * 3);
  });

  it('recomputing a period after a day changed replaces its documents (idempotent, like the day rollup)', async () => {
    await KpiDailyModel.updateOne(
      { corpId: CORP, day: '2026-06-10', advisorUserid: 'a1' },
      { $inc: { 'counters.tasksDue': 100 } },
    );
    await rollupPeriods(CORP, ['2026-06-10']);
    await rollupPeriods(CORP, ['2026-06-10']);
    const june = await KpiPeriodModel.findOne({
      corpId: CORP,
      granularity: 'month',
      day: '2026-06-01',
      advisorUserid: 'a1',
    }).lean();
    const days = await KpiDailyModel.find({
      corpId: CORP,
      advisorUserid: 'a1',
      day: { $gte: '2026-06-01', $lt: addDays('2026-06-30', 1) },
    }).lean();
    expect((june?.counters as Record<string, number>).tasksDue).toBe(
      days.reduce((n, d) => n + (d.counters as Record<string, number>).tasksDue!, 0),
    );
    expect(await KpiPeriodModel.countDocuments({ corpId: CORP, granularity: 'month', day: '2026-06-01' })).toBe(3);
  });
});
