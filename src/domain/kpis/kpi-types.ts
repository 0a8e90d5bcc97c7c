/**
 * The cockpit's shared vocabulary (docs/cockpit.md): metric keys, the rows the API returns and the
 * anomaly flags. The back end (rollups, API, digest) and the console import these types, so
 * they cannot drift. Definitions (labels, explanations, aggregation) live in metric-definitions.ts.
 */

export const METRIC_GROUPS = ['followup', 'care', 'relationship', 'messaging'] as const;
export type MetricGroup = (typeof METRIC_GROUPS)[number];

export const METRIC_KEYS = [
  // follow-up discipline
  'tasks_due',
  'tasks_done_on_time',
  'tasks_done_late',
  'tasks_overdue',
  'tasks_escalated',
  'tasks_reassigned',
  'on_time_rate',
  'median_due_to_done_ms',
  // retained-customer care
  'new_owners',
  'delivery_care_within_sla_rate',
  'invitations_sent',
  'invitations_booked',
  'invitations_declined',
  'invitations_unreachable',
  // relationship health
  'customers_added',
  'customers_lost',
  'loss_rate_30d',
  'welcomes_sent',
  'welcomes_failed',
  // messaging
  'messages_planned',
  'messages_confirmed',
  'messages_sent',
  'messages_blocked_cap',
  'messages_blocked_opt_out',
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

export type MetricKind = 'count' | 'rate' | 'duration_ms';

export interface MetricDefinition {
  key: MetricKey;
  group: MetricGroup;
  kind: MetricKind;
  /** For anomaly direction: a drop is bad when true, a rise is bad when false. */
  higherIsBetter: boolean;
  label: { zh: string; en: string };
  /** Shown on hover in the console; says exactly what is counted and over which time field. */
  definition: { zh: string; en: string };
}

/**
 * Result metrics judged for anomalies (docs/cockpit.md "Result anomalies"): computed from the DMS
 * outcomes on request, not rolled up, so they are not in METRIC_KEYS (no tile, column or CSV cell).
 */
export const RESULT_METRIC_KEYS = ['no_show_rate'] as const;
export type ResultMetricKey = (typeof RESULT_METRIC_KEYS)[number];
export type AnomalyMetricKey = MetricKey | ResultMetricKey;

/** A result metric's definition: as a process metric's, in the group `results`. */
export interface ResultMetricDefinition extends Omit<MetricDefinition, 'key' | 'group'> {
  key: ResultMetricKey;
  group: 'results';
}
export type AnomalyMetricDefinition = MetricDefinition | ResultMetricDefinition;

/** One no-show behind a no-show-rate flag (ids and dates only; `customerId` only for roles that may see customers). */
export interface NoShowItem {
  noShowId: string;
  bookingTaskId: string;
  bookedAt: string;
  windowEnd: string;
  /** When the daily detection found it: its follow-up task is due then. */
  detectedAt: string;
  followUpTaskId?: string;
  customerId?: string;
}

export type Granularity = 'day' | 'week' | 'month';
export type UnitKind = 'corp' | 'department' | 'advisor';

export interface KpiUnit {
  kind: UnitKind;
  /** corp id, `corpId:departmentId`, or `corpId:userid`. */
  id: string;
  corpId: string;
  /** Display name (corp name, department name, advisor name); never a customer's data. */
  label: string;
}

/** Values per metric; a rate or median is null when its denominator is zero. */
export type KpiValues = Partial<Record<MetricKey, number | null>>;

export interface KpiSeriesPoint {
  /** Start of the period, `YYYY-MM-DD` in the corp's time zone (week starts Monday). */
  period: string;
  values: KpiValues;
}

export interface AnomalyFlag {
  metric: AnomalyMetricKey;
  unit: KpiUnit;
  /** The period judged, `YYYY-MM-DD` start. */
  period: string;
  value: number;
  /** The unit's own median over its recent history; null when too little history. */
  usual: number | null;
  /** The median of the unit's peers (same corp, same kind) this period; null without peers. */
  peers: number | null;
  /** Robust z-scores (0.6745·(x − median)/MAD) against own history and against peers. */
  ownScore: number | null;
  peerScore: number | null;
  direction: 'low' | 'high';
  /** Denominator behind a rate (e.g. tasks due) — the minimum-volume rule applies to it. */
  volume: number;
  /** e.g. "张伟's on-time rate 41% vs his usual 88% and the dealer's 83%; 9 of 15 tasks overdue". */
  explanation: { zh: string; en: string };
  /** Where the console drills down: a console path and its query (e.g. the overdue tasks). */
  drillDown: { path: string; query: Record<string, string>; noShows?: NoShowItem[] };
}

export interface KpiRow {
  unit: KpiUnit;
  values: KpiValues;
  flags: AnomalyFlag[];
}

/** `GET /api/v1/kpis/overview`: totals, a series for sparklines and a ranking of units. */
export interface KpiOverview {
  /** The server's now (the shared clock in development): the console's default range ends on this day. */
  asOf?: string;
  /** The latest day with any data in the scope (`YYYY-MM-DD`): the console's default range ends there when today is empty. */
  latestDay?: string;
  from: string;
  to: string;
  granularity: Granularity;
  groupBy: UnitKind;
  totals: KpiValues;
  series: KpiSeriesPoint[];
  rows: KpiRow[];
}
