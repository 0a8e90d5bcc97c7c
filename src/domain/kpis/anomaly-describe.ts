import dayjs from 'dayjs';
import type {
  AnomalyFlag,
  AnomalyMetricDefinition as MetricDefinition,
  AnomalyMetricKey,
  KpiUnit,
} from './kpi-types.js';

/** The numbers of a flag the words are made from. */
export type FlagFigures = Pick<AnomalyFlag, 'unit' | 'value' | 'usual' | 'peers' | 'volume'>;

/** A metric value as people read it: a rate in whole percent, a duration in hours, a count as is. */
export function formatValue(metric: MetricDefinition, value: number): string {
  if (metric.kind === 'rate') return `${Math.round(value * 100)}%`;
  if (metric.kind === 'duration_ms') return `${(value / 3_600_000).toFixed(1)}h`;
  return String(Math.round(value * 10) / 10);
}

const PEERS_EN: Record<KpiUnit['kind'], string> = {
  advisor: "the dealer's",
  department: "other departments'",
  corp: "other dealers'",
};
const PEERS_ZH: Record<KpiUnit['kind'], string> = { advisor: '本店顾问', department: '其他部门', corp: '其他经销商' };

/** Context counts that read well in a sentence, e.g. `{ overdue: 9 }` with volume 15 → "9 of 15 tasks overdue". */
const CONTEXT_WORDS: Record<string, { en: (n: number, of: number) => string; zh: (n: number, of: number) => string }> =
  {
    overdue: { en: (n, of) => `${n} of ${of} tasks overdue`, zh: (n, of) => `${of} 项任务中 ${n} 项逾期` },
    late: { en: (n) => `${n} done late`, zh: (n) => `${n} 项超时完成` },
    escalated: { en: (n) => `${n} escalated`, zh: (n) => `${n} 项已升级` },
    lost: { en: (n) => `${n} customers lost`, zh: (n) => `流失 ${n} 位客户` },
    noShows: {
      en: (n, of) => `${n} of ${of} bookings did not arrive`,
      zh: (n, of) => `${of} 个预约中 ${n} 个未到店`,
    },
  };

/**
 * The explanation of a flag in words, zh and en, e.g. "张伟's on-time rate 41% vs their usual 88%
 * and the dealer's 83%; 9 of 15 tasks overdue". Names are unit labels (staff, departments,
 * dealers), never customer data.
 */
export function describeAnomaly(
  metric: MetricDefinition,
  f: FlagFigures,
  context: Record<string, number> = {},
): { zh: string; en: string } {
  const fmt = (v: number) => formatValue(metric, v);
  const labelEn = metric.label.en.charAt(0).toLowerCase() + metric.label.en.slice(1);
  const en: string[] = [];
  const zh: string[] = [];
  if (f.usual !== null) {
    en.push(`their usual ${fmt(f.usual)}`);
    zh.push(`常态 ${fmt(f.usual)}`);
  }
  if (f.peers !== null) {
    en.push(`${PEERS_EN[f.unit.kind]} ${fmt(f.peers)}`);
    zh.push(`${PEERS_ZH[f.unit.kind]} ${fmt(f.peers)}`);
  }
  const extraEn: string[] = [];
  const extraZh: string[] = [];
  for (const [key, n] of Object.entries(context)) {
    const words = CONTEXT_WORDS[key];
    if (words && n > 0) {
      extraEn.push(words.en(n, f.volume));
      extraZh.push(words.zh(n, f.volume));
    }
  }
  const enText = `${f.unit.label}'s ${labelEn} ${fmt(f.value)}${en.length ? ` vs ${en.join(' and ')}` : ''}${extraEn.length ? `; ${extraEn.join(', ')}` : ''}`;
  const zhText = `${f.unit.label}的${metric.label.zh} ${fmt(f.value)}${zh.length ? `（${zh.join('，')}）` : ''}${extraZh.length ? `；${extraZh.join('，')}` : ''}`;
  return { en: enText, zh: zhText };
}

const OVERDUE_METRICS: ReadonlySet<AnomalyMetricKey> = new Set(['on_time_rate', 'tasks_overdue']);
const LOST_METRICS: ReadonlySet<AnomalyMetricKey> = new Set(['customers_lost', 'loss_rate_30d']);
const OWNER_METRICS: ReadonlySet<AnomalyMetricKey> = new Set(['new_owners', 'delivery_care_within_sla_rate']);

/** The last day of a period starting at `period` (inclusive, as the console's date filters read it), `YYYY-MM-DD`. */
export function periodEnd(period: string, granularity: 'day' | 'week' | 'month'): string {
  return dayjs(period).add(1, granularity).subtract(1, 'day').format('YYYY-MM-DD');
}

/**
 * Where the console drills down from a flag: the task list behind a follow-up metric (only the
 * overdue ones for on-time and overdue), otherwise the customer list, filtered to the unit and
 * the period (`from` and `to` both inclusive days, as the console's task and customer filters read
 * them; unlike `to` of /api/v1/kpis, which is exclusive). Paths are console routes.
 */
export function drillDownFor(
  metric: MetricDefinition,
  unit: KpiUnit,
  period: string,
  granularity: 'day' | 'week' | 'month',
): AnomalyFlag['drillDown'] {
  const query: Record<string, string> = { corpId: unit.corpId };
  const local = unit.id.startsWith(`${unit.corpId}:`) ? unit.id.slice(unit.corpId.length + 1) : unit.id;
  if (unit.kind === 'advisor') query.advisor = local;
  if (unit.kind === 'department') query.department = local;
  query.from = period;
  query.to = periodEnd(period, granularity);
  if (metric.group === 'followup' || metric.group === 'results') {
    if (OVERDUE_METRICS.has(metric.key)) query.overdue = 'true';
    return { path: '/tasks', query };
  }
  if (LOST_METRICS.has(metric.key)) query.status = 'lost';
  if (OWNER_METRICS.has(metric.key)) query.lifecycle = 'owner';
  return { path: '/customers', query };
}
