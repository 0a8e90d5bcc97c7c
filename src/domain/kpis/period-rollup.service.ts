import { accumulate, emptyAccumulator, type KpiAccumulator } from './kpi-counters.js';
import { KpiDailyModel } from './kpi-daily.model.js';
import { addDays, periodStart } from './kpi-days.js';
import { KpiPeriodModel } from './kpi-period.model.js';

export type PeriodGranularity = 'week' | 'month';
export const PERIOD_GRANULARITIES: readonly PeriodGranularity[] = ['week', 'month'];

/** The first day after the period that starts on `start`. */
export function periodEnd(start: string, granularity: PeriodGranularity): string {
  return granularity === 'week' ? addDays(start, 7) : periodStart(addDays(start, 31), 'month');
}

/**
 * Recomputes the week and month documents of the periods `days` fall in, from their kpi_daily
 * documents (one read per period, all advisors), replacing what was there: idempotent like the
 * daily rollup. Called after days are rolled up, once per touched period.
 */
export async function rollupPeriods(
  corpId: string,
  days: readonly string[],
): Promise<{ periods: number; docsRead: number }> {
  let docsRead = 0;
  let periods = 0;
  for (const granularity of PERIOD_GRANULARITIES) {
    for (const start of new Set(days.map((d) => periodStart(d, granularity)))) {
      const dailies = await KpiDailyModel.find(
        { corpId, day: { $gte: start, $lt: periodEnd(start, granularity) } },
        { _id: 0 },
      )
        .sort({ day: 1 })
        .lean();
      docsRead += dailies.length;
      periods++;
      const byAdvisor = new Map<string, { acc: KpiAccumulator; departments: number[]; asOf: Date }>();
      for (const d of dailies) {
        const entry = byAdvisor.get(d.advisorUserid) ?? { acc: emptyAccumulator(), departments: [], asOf: d.asOf };
        accumulate(entry.acc, d);
        entry.departments = [...d.departments];
        if (d.asOf > entry.asOf) entry.asOf = d.asOf;
        byAdvisor.set(d.advisorUserid, entry);
      }
      if (byAdvisor.size) {
        await KpiPeriodModel.bulkWrite(
          [...byAdvisor].map(([advisorUserid, e]) => ({
            replaceOne: {
              filter: { corpId, granularity, day: start, advisorUserid },
              replacement: {
                corpId,
                granularity,
                day: start,
                advisorUserid,
                departments: e.departments,
                counters: e.acc.counters,
                dueToDone: e.acc.dueToDone,
                addedByState: e.acc.addedByState,
                asOf: e.asOf,
              },
              upsert: true,
            },
          })),
          { ordered: false },
        );
      }
      await KpiPeriodModel.deleteMany({
        corpId,
        granularity,
        day: start,
        advisorUserid: { $nin: [...byAdvisor.keys()] },
      });
    }
  }
  return { periods, docsRead };
}
