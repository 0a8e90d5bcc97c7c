import { AdvisorModel } from '../customers/advisor.model.js';
import { noShowRateFlags } from '../outcomes/no-show-anomalies.js';
import { anomalyFlags, type UnitPeriods } from './anomaly-wiring.js';
import { accumulate, emptyAccumulator, valuesOf, type KpiAccumulator } from './kpi-counters.js';
import { KpiDailyModel, type KpiDailyDocument } from './kpi-daily.model.js';
import { KpiPeriodModel } from './kpi-period.model.js';
import { periodEnd } from './period-rollup.service.js';
import { addDays, periodStart } from './kpi-days.js';
import type { AnomalyFlag, Granularity, KpiOverview, KpiUnit, UnitKind } from './kpi-types.js';
import { NO_ADVISOR } from './rollup.service.js';

export interface OverviewQuery {
  corpIds: readonly string[];
  /** Corp-local days, `to` exclusive. */
  from: string;
  to: string;
  granularity: Granularity;
  groupBy: UnitKind;
  /** Limit to these advisors (scope or filter). */
  advisors?: readonly string[];
  department?: number;
  /** Also judge the result metrics (docs/cockpit.md "Result anomalies") as of `now`; advisors only. */
  results?: ResultFlagsOptions;
}

export interface ResultFlagsOptions {
  now: Date;
  /** Customer ids in the no-show drill-down: only for roles that may see customers. */
  withCustomerIds: boolean;
}

export interface OverviewResult extends KpiOverview {
  /** Relationships added by channel state over the range and scope. */
  addedByState: Record<string, number>;
  /** Rollup documents read (kpi_periods for whole periods, kpi_daily for the days at the edges): the query's whole cost. */
  docsRead: number;
}

type DailyLean = KpiDailyDocument;

/**
 * The rollup documents of a scope and day range, read as coarsely as the granularity allows:
 * the whole weeks or months inside the range from kpi_periods (one document per advisor and
 * period), the days at the edges from kpi_daily. Each document carries its period's first day
 * in `day`, so both kinds sum alike. A year by month reads 12 documents per advisor, not 365.
 */
export async function loadRollups(
  q: Pick<OverviewQuery, 'corpIds' | 'from' | 'to' | 'advisors' | 'department'> & { granularity?: Granularity },
): Promise<DailyLean[]> {
  const scope: Record<string, unknown> = { corpId: q.corpIds.length === 1 ? q.corpIds[0] : { $in: [...q.corpIds] } };
  if (q.advisors) scope.advisorUserid = { $in: [...q.advisors] };
  if (q.department !== undefined) scope.departments = q.department;
  const days = async (from: string, to: string) =>
    from < to
      ? ((await KpiDailyModel.find({ ...scope, day: { $gte: from, $lt: to } }, { _id: 0 }).lean()) as DailyLean[])
      : [];
  const g = q.granularity;
  if (g !== 'week' && g !== 'month') return days(q.from, q.to);
  const first = periodStart(q.from, g) === q.from ? q.from : periodEnd(periodStart(q.from, g), g);
  const last = periodStart(q.to, g);
  if (first >= last) return days(q.from, q.to);
  const [head, whole, tail] = await Promise.all([
    days(q.from, first),
    KpiPeriodModel.find(
      { ...scope, granularity: g, day: { $gte: first, $lt: last } },
      { _id: 0, granularity: 0 },
    ).lean() as Promise<DailyLean[]>,
    days(last, q.to),
  ]);
  return [...head, ...whole, ...tail];
}

/** The units a rollup document counts for: its corp, each of its advisor's departments, or its advisor. */
function unitKeysOf(
  doc: DailyLean,
  groupBy: UnitKind,
): Array<{ kind: UnitKind; id: string; corpId: string; local: string }> {
  if (groupBy === 'corp') return [{ kind: 'corp', id: doc.corpId, corpId: doc.corpId, local: doc.corpId }];
  if (groupBy === 'department')
    return (doc.departments.length ? doc.departments : [0]).map((d) => ({
      kind: 'department' as const,
      id: `${doc.corpId}:${d}`,
      corpId: doc.corpId,
      local: String(d),
    }));
  return [{ kind: 'advisor', id: `${doc.corpId}:${doc.advisorUserid}`, corpId: doc.corpId, local: doc.advisorUserid }];
}

/** Groups rollup documents into units × periods (used by the overview, the anomalies and the digest). */
export async function unitPeriods(
  docs: readonly DailyLean[],
  groupBy: UnitKind,
  granularity: Granularity,
): Promise<UnitPeriods[]> {
  const units = new Map<string, UnitPeriods & { local: string }>();
  for (const doc of docs) {
    const period = periodStart(doc.day, granularity);
    for (const k of unitKeysOf(doc, groupBy)) {
      let u = units.get(k.id);
      if (!u)
        units.set(
          k.id,
          (u = {
            unit: { kind: k.kind, id: k.id, corpId: k.corpId, label: k.local },
            periods: new Map(),
            local: k.local,
          }),
        );
      let acc = u.periods.get(period);
      if (!acc) u.periods.set(period, (acc = emptyAccumulator()));
      accumulate(acc, doc);
    }
  }
  await labelUnits([...units.values()], groupBy);
  return [...units.values()].map(({ unit, periods }) => ({ unit, periods }));
}

/** Display names: advisors by their directory name, departments by id, corps by id. Staff names only. */
async function labelUnits(units: Array<{ unit: KpiUnit; local: string }>, groupBy: UnitKind): Promise<void> {
  if (groupBy === 'department')
    for (const u of units) u.unit.label = u.local === '0' ? '未分配部门 / no department' : `部门 ${u.local}`;
  if (groupBy !== 'advisor' || units.length === 0) return;
  const corps = [...new Set(units.map((u) => u.unit.corpId))];
  const names = new Map(
    (
      await AdvisorModel.find(
        { corpId: { $in: corps }, userid: { $in: units.map((u) => u.local) } },
        { corpId: 1, userid: 1, name: 1 },
      ).lean()
    ).map((a) => [`${a.corpId}:${a.userid}`, a.name]),
  );
  for (const u of units)
    u.unit.label = u.local === NO_ADVISOR ? '未分配顾问 / unassigned' : names.get(u.unit.id) || u.local;
}

/** Period starts covering [from, to). */
export function periodsOf(from: string, to: string, granularity: Granularity): string[] {
  const out: string[] = [];
  for (
    let p = periodStart(from, granularity);
    p < to;
    p = periodStart(addDays(p, granularity === 'day' ? 1 : granularity === 'week' ? 7 : 32), granularity)
  )
    out.push(p);
  return out;
}

/**
 * `GET /api/v1/kpis/overview` (docs/cockpit.md): totals, a series for sparklines and one row per unit,
 * all from rollups only (reads ∝ advisors × periods in scope, independent of history length).
 * Rows carry the anomaly flags of the range's last period against the range's earlier periods
 * (up to 8) and the unit's peers.
 */
export async function kpiOverview(q: OverviewQuery): Promise<OverviewResult> {
  const docs = await loadRollups(q);
  const totals = emptyAccumulator();
  const series = new Map<string, KpiAccumulator>(
    periodsOf(q.from, q.to, q.granularity).map((p) => [p, emptyAccumulator()]),
  );
  for (const doc of docs) {
    accumulate(totals, doc);
    const p = periodStart(doc.day, q.granularity);
    const acc = series.get(p) ?? emptyAccumulator();
    series.set(p, accumulate(acc, doc));
  }
  const units = await unitPeriods(docs, q.groupBy, q.granularity);
  const periods = [...series.keys()].sort();
  const last = periods[periods.length - 1];
  const flags: AnomalyFlag[] = last ? anomalyFlags(units, last, periods.slice(-9, -1), q.granularity) : [];
  if (last && q.results && q.groupBy === 'advisor')
    flags.push(
      ...(await noShowRateFlags({
        ...q.results,
        corpIds: q.corpIds,
        period: last,
        history: periods.slice(-9, -1),
        granularity: q.granularity,
        advisors: q.advisors,
      })),
    );
  const rows = units
    .map((u) => {
      const acc = emptyAccumulator();
      for (const a of u.periods.values()) accumulate(acc, a);
      return { unit: u.unit, values: valuesOf(acc), flags: flags.filter((f) => f.unit.id === u.unit.id) };
    })
    .sort((a, b) => a.unit.label.localeCompare(b.unit.label));
  return {
    from: q.from,
    to: q.to,
    granularity: q.granularity,
    groupBy: q.groupBy,
    totals: valuesOf(totals),
    series: periods.map((period) => ({ period, values: valuesOf(series.get(period) ?? emptyAccumulator()) })),
    rows,
    addedByState: totals.addedByState,
    docsRead: docs.length,
  };
}

/**
 * `GET /api/v1/kpis/anomalies`: the week starting `week` (a Monday) of each advisor and each
 * dealer corp, against its previous 8 weeks and its peers (advisors of the same corp; the corps
 * in `corpIds`). Reads 9 weeks of rollups; with `results`, also the advisors' no-show rates
 * (the booking tasks and no-shows of the 9 weeks).
 */
export async function weeklyAnomalies(q: {
  corpIds: readonly string[];
  week: string;
  advisors?: readonly string[];
  /** Also judge the result metrics (the no-show rate) of the advisors as of `now`. */
  results?: ResultFlagsOptions;
}): Promise<{ flags: AnomalyFlag[]; docsRead: number }> {
  const from = addDays(q.week, -56);
  const to = addDays(q.week, 7);
  const docs = await loadRollups({ corpIds: q.corpIds, from, to, granularity: 'week' });
  const history = Array.from({ length: 8 }, (_, i) => addDays(q.week, -56 + 7 * i));
  const advisors = await unitPeriods(docs, 'advisor', 'week');
  const corps = await unitPeriods(docs, 'corp', 'week');
  let flags = [...anomalyFlags(advisors, q.week, history, 'week'), ...anomalyFlags(corps, q.week, history, 'week')];
  if (q.results)
    flags.push(
      ...(await noShowRateFlags({ ...q.results, corpIds: q.corpIds, period: q.week, history, granularity: 'week' })),
    );
  // Peers are the whole corp; a narrower scope (a manager, an advisor) sees its own advisors' flags only.
  if (q.advisors) {
    const mine = new Set(q.advisors);
    flags = flags.filter((f) => f.unit.kind === 'advisor' && mine.has(f.unit.id.slice(f.unit.corpId.length + 1)));
  }
  const severity = (f: AnomalyFlag) => Math.abs(f.ownScore ?? 0) + Math.abs(f.peerScore ?? 0);
  return { flags: flags.sort((a, b) => severity(b) - severity(a)), docsRead: docs.length };
}
