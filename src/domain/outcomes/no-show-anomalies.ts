import { dayjs } from '../../infra/clock.js';
import { corpTimeZone } from '../corps/corp-queries.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { detectAnomalies, type AnomalyOptions, type Observation } from '../kpis/anomalies.js';
import { addDays, dayBounds, localDayOf, periodStart } from '../kpis/kpi-days.js';
import type { AnomalyFlag, Granularity, NoShowItem, ResultMetricDefinition } from '../kpis/kpi-types.js';
import { periodEnd } from '../kpis/period-rollup.service.js';
import { TaskModel } from '../tasks/task.model.js';
import { NoShowModel } from './no-show.model.js';
import { loadOutcomeSettings } from './outcome-settings.js';

/** The no-show rate as the anomaly module judges it (docs/cockpit.md "Result anomalies"). */
export const NO_SHOW_RATE: ResultMetricDefinition = Object.freeze({
  key: 'no_show_rate',
  group: 'results',
  kind: 'rate',
  higherIsBetter: false,
  label: { zh: '预约未到店率', en: 'No-show rate' },
  definition: {
    zh: '顾问记录为「已预约到店」的任务（按完成时间计入周期）中，未到店窗口已结束且被判定为未到店的占比；分母只含窗口已结束的预约。预约到店率 = 1 − 未到店率。',
    en: '"Appointment booked" tasks of the period (by completion time) that became no-shows, over those whose no-show window has closed. Booked → arrived = 1 − this rate.',
  },
});

/** A window counts as closed one day after it ends, once the daily no-show detection has run over it. */
const DETECTION_MARGIN_DAYS = 1;
/** The time zone of a corp without one (the corp model requires it; this is for unknown corps). */
const FALLBACK_TIME_ZONE = 'Asia/Shanghai';

export interface NoShowRateQuery {
  corpIds: readonly string[];
  /** Start of the judged period and of the earlier ones (oldest first), corp-local `YYYY-MM-DD`. */
  period: string;
  history: readonly string[];
  granularity: Granularity;
  /** Limit the flags to these advisors (peers are still the whole corp). */
  advisors?: readonly string[];
  now: Date;
  /** Put customer ids in the drill-down (only for roles that may see customers). */
  withCustomerIds: boolean;
  options?: Partial<AnomalyOptions>;
}

interface AdvisorPeriod {
  booked: number;
  noShows: NoShowItem[];
}

const endOf = (period: string, g: Granularity) => (g === 'day' ? addDays(period, 1) : periodEnd(period, g));

/**
 * Flags advisors whose no-show rate in `period` jumps against their own earlier periods and
 * their corp's other advisors, with the cockpit's detector (anomalies.ts) and options. Reads the
 * booking tasks and no-shows of the periods; the explanation and the no-shows behind the number
 * (ids and dates) come with each flag.
 */
export async function noShowRateFlags(q: NoShowRateQuery): Promise<AnomalyFlag[]> {
  const flags: AnomalyFlag[] = [];
  for (const corpId of q.corpIds) flags.push(...(await corpNoShowFlags(corpId, q)));
  if (!q.advisors) return flags;
  const mine = new Set(q.advisors);
  return flags.filter((f) => mine.has(f.unit.id.slice(f.unit.corpId.length + 1)));
}

async function corpNoShowFlags(corpId: string, q: NoShowRateQuery): Promise<AnomalyFlag[]> {
  const [timeZone, settings] = await Promise.all([
    corpTimeZone(corpId, FALLBACK_TIME_ZONE),
    loadOutcomeSettings(corpId),
  ]);
  const first = q.history[0] ?? q.period;
  const from = dayBounds(first, timeZone).start;
  const to = dayBounds(endOf(q.period, q.granularity), timeZone).start;
  // A booking counts once its window has closed and the daily detection has looked at it.
  const closedBefore = dayjs(q.now)
    .subtract(settings.noShowDays + DETECTION_MARGIN_DAYS, 'day')
    .toDate();
  const until = to < closedBefore ? to : closedBefore;
  if (until <= from) return [];
  const [bookings, noShows] = await Promise.all([
    TaskModel.find(
      { corpId, status: 'done', outcome: 'appointment_booked', completedAt: { $gte: from, $lt: until } },
      { _id: 1, advisorUserid: 1, completedAt: 1 },
    ).lean(),
    NoShowModel.find({ corpId, bookedAt: { $gte: from, $lt: until } }).lean(),
  ]);
  const byAdvisor = new Map<string, Map<string, AdvisorPeriod>>();
  const cell = (advisor: string, at: Date) => {
    const period = periodStart(localDayOf(at, timeZone), q.granularity);
    let periods = byAdvisor.get(advisor);
    if (!periods) byAdvisor.set(advisor, (periods = new Map()));
    let c = periods.get(period);
    if (!c) periods.set(period, (c = { booked: 0, noShows: [] }));
    return c;
  };
  for (const t of bookings) if (t.completedAt) cell(t.advisorUserid, t.completedAt).booked++;
  // A no-show is counted for the booking's advisor and period, as the booking was.
  for (const n of noShows)
    cell(n.advisorUserid, n.bookedAt).noShows.push({
      noShowId: String(n._id),
      bookingTaskId: String(n.taskId),
      bookedAt: n.bookedAt.toISOString(),
      windowEnd: n.windowEnd.toISOString(),
      detectedAt: n.detectedAt.toISOString(),
      ...(n.followUpTaskId ? { followUpTaskId: String(n.followUpTaskId) } : {}),
      ...(q.withCustomerIds && n.customerId ? { customerId: String(n.customerId) } : {}),
    });
  const observe = (c: AdvisorPeriod | undefined): Observation | undefined =>
    c && { numerator: c.noShows.length, denominator: Math.max(c.booked, c.noShows.length) };
  const names = await advisorNames(corpId, [...byAdvisor.keys()]);
  const units = [...byAdvisor].flatMap(([advisor, periods]) => {
    const current = observe(periods.get(q.period));
    if (!current) return [];
    return [
      {
        unit: { kind: 'advisor' as const, id: `${corpId}:${advisor}`, corpId, label: names.get(advisor) ?? advisor },
        current,
        history: q.history.map((p) => observe(periods.get(p))).filter((o): o is Observation => !!o),
        context: { noShows: current.numerator },
      },
    ];
  });
  const flags = detectAnomalies(
    { metric: NO_SHOW_RATE, period: q.period, granularity: q.granularity, units },
    q.options,
  );
  return flags.map((f) => {
    const items = byAdvisor.get(f.unit.id.slice(corpId.length + 1))?.get(q.period)?.noShows ?? [];
    return { ...f, drillDown: drillDownOf(f, items, timeZone) };
  });
}

/**
 * The no-shows behind the flag, and the console's task list of the advisor over the days their
 * follow-up tasks (`预约未到店回访`, due when the no-show was found) fall on.
 */
function drillDownOf(flag: AnomalyFlag, items: NoShowItem[], timeZone: string): AnomalyFlag['drillDown'] {
  const noShows = [...items].sort((a, b) => a.bookedAt.localeCompare(b.bookedAt));
  const found = noShows.map((n) => localDayOf(new Date(n.detectedAt), timeZone)).sort();
  const query = { ...flag.drillDown.query };
  if (found.length) {
    query.from = found[0]!;
    query.to = found[found.length - 1]!;
  }
  return { ...flag.drillDown, query, noShows };
}

/** Display names of advisors (staff names only), by userid. */
async function advisorNames(corpId: string, userids: readonly string[]): Promise<Map<string, string>> {
  if (userids.length === 0) return new Map();
  const rows = await AdvisorModel.find({ corpId, userid: { $in: [...userids] } }, { userid: 1, name: 1 }).lean();
  return new Map(rows.filter((a) => a.name).map((a) => [a.userid, a.name as string]));
}
