import type { MetricDefinition, MetricKey } from '../../lib/api-types.js';

/**
 * The tiles on top, in order (only those the API defines are shown): what came in (new customers,
 * new retained customers, welcomes sent), then how the follow-ups went, then the messages.
 */
export const TILE_METRICS: readonly MetricKey[] = [
  'customers_added',
  'new_owners',
  'welcomes_sent',
  'on_time_rate',
  'tasks_overdue',
  'median_due_to_done_ms',
  'delivery_care_within_sla_rate',
  'loss_rate_30d',
  'messages_sent',
];
/** The ranking table's metric columns. */
export const RANKING_METRICS: readonly MetricKey[] = [
  'on_time_rate',
  'tasks_due',
  'tasks_overdue',
  'delivery_care_within_sla_rate',
  'loss_rate_30d',
];

/** A metric value as the cockpit shows it: rates in percent, durations in hours, counts as integers; null is a dash. */
export function formatMetric(kind: MetricDefinition['kind'] | undefined, value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (kind === 'rate') return `${Math.round(value * 100)}%`;
  if (kind === 'duration_ms') return `${(value / 3_600_000).toFixed(1)} h`;
  return String(Math.round(value));
}

/** `YYYY-MM-DD` of a local date. */
export function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/**
 * The default range: the last 8 weeks, Monday eight weeks ago up to today — the server's today
 * (`asOf` of the overview), which runs ahead of the browser's after `npm run demo` moves the clock,
 * or the latest day with data (`latestDay`) when that range is empty.
 */
export function defaultRange(today: Date): [string, string] {
  const monday = new Date(today);
  monday.setDate(today.getDate() - ((today.getDay() + 6) % 7) - 7 * 7);
  return [isoDay(monday), isoDay(today)];
}

/** A unit id's local part: `corpId:userid` → `userid`, `corpId:2` → `2`, a corp id stays itself. */
export function localIdOf(unit: { id: string; corpId: string }): string {
  return unit.id.startsWith(`${unit.corpId}:`) ? unit.id.slice(unit.corpId.length + 1) : unit.id;
}

/** A `YYYY-MM-DD` day as a local Date at midnight (what `defaultRange` and `isoDay` expect). */
export function dayToDate(day: string): Date {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y!, m! - 1, d!);
}

/** `day` (`YYYY-MM-DD`) moved by `n` days: the API's `to` is exclusive, the date pickers' ends inclusive. */
export function addDays(day: string, n: number): string {
  const date = dayToDate(day);
  date.setDate(date.getDate() + n);
  return isoDay(date);
}
