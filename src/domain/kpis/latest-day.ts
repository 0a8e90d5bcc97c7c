import { KpiDailyModel } from './kpi-daily.model.js';

/**
 * The latest corp-local day (`YYYY-MM-DD`) that has any cockpit data in a scope, or undefined.
 * The rollup stores no document for an advisor-day without counts (rollup.service.ts), so the
 * newest `kpi_daily` document is the newest day with data. One index walk per corp on
 * `{corpId, day}` (or the advisor/department index), newest first, one document each.
 * The console opens on a range ending there when today is empty (docs/cockpit.md "Rollups").
 */
export async function latestDayWithData(scope: {
  corpIds: string[];
  advisors?: string[];
  department?: number;
}): Promise<string | undefined> {
  const days = await Promise.all(
    scope.corpIds.map(async (corpId) => {
      const doc = await KpiDailyModel.findOne(
        {
          corpId,
          ...(scope.advisors ? { advisorUserid: { $in: scope.advisors } } : {}),
          ...(scope.department !== undefined ? { departments: scope.department } : {}),
        },
        { day: 1 },
      )
        .sort({ day: -1 })
        .lean();
      return doc?.day;
    }),
  );
  return days.filter((d): d is string => Boolean(d)).sort((a, b) => b.localeCompare(a))[0];
}
