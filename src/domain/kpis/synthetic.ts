import dayjs from 'dayjs';
import type { AnomalyInput, Observation } from './anomalies.js';
import type { KpiUnit, MetricDefinition } from './kpi-types.js';

/**
 * A seeded, noisy synthetic dealer for testing the anomaly detector (docs/cockpit.md): advisors with their
 * own on-time rates and weekly task volumes, binomial week-to-week variation, a few small-volume
 * advisors, and planted drops of chosen sizes at chosen (advisor, week). Same seed, same dealer.
 */

/** mulberry32: a tiny 32-bit seeded PRNG, uniform in [0, 1). Good enough for test data, not for secrets. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Binomial(n, p) by counting successes (n is at most a few hundred here). */
export function binomial(rand: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (rand() < p) k++;
  return k;
}

/** Poisson(λ) by Knuth's method (λ stays small here). */
export function poisson(rand: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

export interface PlantedAnomaly {
  advisor: number;
  week: number;
  /** Drop of the on-time rate in points of a fraction (0.25 = 25 points). */
  drop: number;
  /** Tasks due that week, instead of a random volume (to test a drop at a known volume). */
  volume?: number;
}

export interface SyntheticOptions {
  seed: number;
  advisors: number;
  weeks: number;
  /** Share of advisors whose mean weekly volume is below the minimum volume (default 0.15). */
  smallShare?: number;
  planted?: PlantedAnomaly[];
  corpId?: string;
  /** Monday of week 0 (default 2026-01-05). */
  start?: string;
}

export interface SyntheticAdvisor {
  unit: KpiUnit;
  /** The advisor's own long-run on-time rate. */
  rate: number;
  meanVolume: number;
  /** One observation per week (numerator = done on time, denominator = tasks due) and its overdue count. */
  weeks: { obs: Observation; overdue: number }[];
}

export interface SyntheticDealer {
  corpId: string;
  weeks: string[];
  advisors: SyntheticAdvisor[];
  planted: PlantedAnomaly[];
}

/**
 * Generates the dealer. Each advisor has a rate drawn from [0.70, 0.97] and a mean weekly volume
 * from [12, 45] (small ones from [2, 8]); each week the volume is Poisson around the mean, the
 * week's true rate wobbles ±3 points around the advisor's own (real weeks differ more than pure
 * binomial noise), and done-on-time is binomial. A planted drop lowers that week's true rate.
 * Of the tasks not done on time, about half are still overdue, the rest done late.
 */
export function syntheticDealer(opts: SyntheticOptions): SyntheticDealer {
  const rand = mulberry32(opts.seed);
  const corpId = opts.corpId ?? `wwsynthetic${opts.seed}`;
  const start = dayjs(opts.start ?? '2026-01-05');
  const weeks = Array.from({ length: opts.weeks }, (_, w) => start.add(w, 'week').format('YYYY-MM-DD'));
  const planted = opts.planted ?? [];
  const smallShare = opts.smallShare ?? 0.15;
  const advisors: SyntheticAdvisor[] = [];
  for (let a = 0; a < opts.advisors; a++) {
    const small = rand() < smallShare && !planted.some((p) => p.advisor === a);
    const rate = 0.7 + rand() * 0.27;
    const meanVolume = small ? 2 + rand() * 6 : 12 + rand() * 33;
    const userid = `advisor${String(a).padStart(3, '0')}`;
    const unit: KpiUnit = { kind: 'advisor', id: `${corpId}:${userid}`, corpId, label: `顾问${a}` };
    const series = weeks.map((_, w) => {
      const here = planted.filter((p) => p.advisor === a && p.week === w);
      const drop = here.reduce((s, p) => s + p.drop, 0);
      const weekRate = Math.min(1, Math.max(0, rate + (rand() - 0.5) * 0.06 - drop));
      const random = poisson(rand, meanVolume);
      const due = here.find((p) => p.volume !== undefined)?.volume ?? random;
      const onTime = binomial(rand, due, weekRate);
      const overdue = binomial(rand, due - onTime, 0.5);
      return { obs: { numerator: onTime, denominator: due }, overdue };
    });
    advisors.push({ unit, rate, meanVolume, weeks: series });
  }
  return { corpId, weeks, advisors, planted };
}

/** The detector's input for week `w` of the dealer: every advisor's week and up to `historyWeeks` before it. */
export function anomalyInputForWeek(
  dealer: SyntheticDealer,
  metric: MetricDefinition,
  w: number,
  historyWeeks = 8,
): AnomalyInput {
  return {
    metric,
    period: dealer.weeks[w]!,
    granularity: 'week',
    units: dealer.advisors.map((a) => ({
      unit: a.unit,
      current: a.weeks[w]!.obs,
      history: a.weeks.slice(Math.max(0, w - historyWeeks), w).map((x) => x.obs),
      context: { overdue: a.weeks[w]!.overdue },
    })),
  };
}

/** The on-time rate as the generator models it (the real definition lives in metric-definitions.ts). */
export const SYNTHETIC_ON_TIME: MetricDefinition = {
  key: 'on_time_rate',
  group: 'followup',
  kind: 'rate',
  higherIsBetter: true,
  label: { zh: '按时完成率', en: 'On-time rate' },
  definition: { zh: '到期任务中按时完成的比例', en: 'Share of tasks due that were done by their due time' },
};
