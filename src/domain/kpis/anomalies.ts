import type { AnomalyFlag, AnomalyMetricDefinition as MetricDefinition, KpiUnit } from './kpi-types.js';
import { describeAnomaly, drillDownFor } from './anomaly-describe.js';

/**
 * Anomaly detection for the cockpit (docs/cockpit.md; method, formulas and measured error rates in
 * docs/cockpit.md "## Anomalies"). Pure functions: the caller (API, weekly digest) loads the
 * observations, this module judges them.
 *
 * A unit's value this period is scored twice with a robust z-score, 0.6745·(x − median)/MAD:
 * against its own recent history and against its peers (same kind, same corp; dealers against
 * dealers) this period. It is flagged when it is unusual for itself AND low (or high) among its
 * peers, in the metric's bad direction, and only when this period's volume is large enough to mean
 * something. The peer check keeps a shared cause (a holiday week, an outage) from flagging everyone.
 */

/** One period's observation: for a rate `numerator / denominator`; for a count the count and its volume. */
export interface Observation {
  numerator: number;
  denominator: number;
}

export interface AnomalyUnitInput {
  unit: KpiUnit;
  current: Observation;
  /** Earlier periods, oldest first (e.g. the last 8 weeks); periods without volume are skipped. */
  history: Observation[];
  /** Counts that help explain a flag, e.g. `{ overdue: 9 }`; see describeAnomaly. */
  context?: Record<string, number>;
}

export interface AnomalyInput {
  metric: MetricDefinition;
  /** Start of the judged period, `YYYY-MM-DD`. */
  period: string;
  /** Period length, for the drill-down's date range; default week. */
  granularity?: 'day' | 'week' | 'month';
  units: AnomalyUnitInput[];
}

export interface AnomalyOptions {
  /** |robust z| against the unit's own history beyond which a value is unusual. */
  threshold: number;
  /** |robust z| against peers that confirms it (lower: the peer spread includes real differences between units). */
  peerThreshold: number;
  /** Used instead when only one of the two comparisons is possible (short history, or no peers). */
  soloThreshold: number;
  /** Minimum denominator (e.g. tasks due) this period; below it nothing is flagged. */
  minVolume: number;
  /** Minimum earlier periods with volume for the own-history comparison. */
  minHistory: number;
  /** Minimum peers with volume ≥ minVolume for the peer comparison. */
  minPeers: number;
}

export const DEFAULT_ANOMALY_OPTIONS: Readonly<AnomalyOptions> = Object.freeze({
  threshold: 3.5,
  peerThreshold: 1.5,
  soloThreshold: 5,
  minVolume: 10,
  minHistory: 4,
  minPeers: 4,
});

/** 0.6745 = Φ⁻¹(0.75): makes MAD comparable to a standard deviation for normal data (Iglewicz & Hoaglin). */
export const MAD_SCALE = 0.6745;

/** The median of a list (NaN for an empty one). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median absolute deviation from the median. */
export function mad(values: readonly number[], center = median(values)): number {
  return median(values.map((v) => Math.abs(v - center)));
}

/** The value a metric shows for an observation: a rate divides, counts and durations do not. */
export function observedValue(metric: MetricDefinition, o: Observation): number | null {
  if (metric.kind === 'rate') return o.denominator > 0 ? o.numerator / o.denominator : null;
  return o.numerator;
}

/**
 * The smallest MAD a score may divide by: the spread that sampling noise alone gives a value like
 * this one at this period's volume, expressed as a MAD (0.6745·σ). Without it a perfectly flat
 * history (MAD 0) would make any change infinitely unusual.
 * - rate: binomial σ = √(p(1−p)/n), p = the reference median kept within [0.05, 0.95] so a history
 *   of 100 % still leaves room for noise, n = this period's denominator;
 * - count: Poisson σ = √max(reference, 1);
 * - duration: 10 % of the reference (durations have no sampling model here).
 */
export function madFloor(metric: MetricDefinition, reference: number, volume: number): number {
  if (metric.kind === 'rate') {
    const p = Math.min(0.95, Math.max(0.05, reference));
    return MAD_SCALE * Math.sqrt((p * (1 - p)) / Math.max(1, volume));
  }
  if (metric.kind === 'count') return MAD_SCALE * Math.sqrt(Math.max(1, reference));
  return MAD_SCALE * Math.max(1, 0.1 * Math.abs(reference));
}

/** Robust z of `x` against `sample`, with the MAD floored; null when the sample is empty. */
export function robustScore(
  metric: MetricDefinition,
  x: number,
  sample: readonly number[],
  volume: number,
): { center: number; score: number } | null {
  if (sample.length === 0) return null;
  const center = median(sample);
  const spread = Math.max(mad(sample, center), madFloor(metric, center, volume));
  return { center, score: (MAD_SCALE * (x - center)) / spread };
}

function peerKey(unit: KpiUnit): string {
  return unit.kind === 'corp' ? 'corp' : `${unit.kind}|${unit.corpId}`;
}

/**
 * Judges every unit of one metric and period; returns the flags, worst first (by own score, then
 * peer score). Units below the minimum volume are never flagged but still count as nothing:
 * they are not peers either, since their rates are mostly noise.
 */
export function detectAnomalies(input: AnomalyInput, options: Partial<AnomalyOptions> = {}): AnomalyFlag[] {
  const opts = { ...DEFAULT_ANOMALY_OPTIONS, ...options };
  const { metric } = input;
  const bad = metric.higherIsBetter ? -1 : 1;
  const eligible = input.units
    .map((u) => ({ ...u, value: observedValue(metric, u.current) }))
    .filter((u): u is typeof u & { value: number } => u.value !== null && u.current.denominator >= opts.minVolume);
  const flags: AnomalyFlag[] = [];
  for (const u of eligible) {
    const history = u.history
      .filter((h) => h.denominator > 0)
      .map((h) => observedValue(metric, h))
      .filter((v): v is number => v !== null);
    const peers = eligible.filter((p) => p !== u && peerKey(p.unit) === peerKey(u.unit)).map((p) => p.value);
    const own = history.length >= opts.minHistory ? robustScore(metric, u.value, history, u.current.denominator) : null;
    const peer = peers.length >= opts.minPeers ? robustScore(metric, u.value, peers, u.current.denominator) : null;
    const ownBad = own ? own.score * bad : null;
    const peerBad = peer ? peer.score * bad : null;
    const flagged =
      ownBad !== null && peerBad !== null
        ? ownBad >= opts.threshold && peerBad >= opts.peerThreshold
        : (ownBad ?? peerBad ?? 0) >= opts.soloThreshold;
    if (!flagged) continue;
    const flag: Omit<AnomalyFlag, 'explanation' | 'drillDown'> = {
      metric: metric.key,
      unit: u.unit,
      period: input.period,
      value: u.value,
      usual: own?.center ?? (history.length ? median(history) : null),
      peers: peer?.center ?? (peers.length ? median(peers) : null),
      ownScore: own?.score ?? null,
      peerScore: peer?.score ?? null,
      direction: bad < 0 ? 'low' : 'high',
      volume: u.current.denominator,
    };
    flags.push({
      ...flag,
      explanation: describeAnomaly(metric, flag, u.context),
      drillDown: drillDownFor(metric, u.unit, input.period, input.granularity ?? 'week'),
    });
  }
  const severity = (f: AnomalyFlag) => Math.abs(f.ownScore ?? 0) + Math.abs(f.peerScore ?? 0);
  return flags.sort((a, b) => severity(b) - severity(a));
}
