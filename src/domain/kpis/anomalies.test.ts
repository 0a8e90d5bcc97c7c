import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ANOMALY_OPTIONS,
  detectAnomalies,
  mad,
  median,
  type AnomalyUnitInput,
  type Observation,
} from './anomalies.js';
import type { KpiUnit, MetricDefinition } from './kpi-types.js';
import {
  anomalyInputForWeek,
  mulberry32,
  SYNTHETIC_ON_TIME,
  syntheticDealer,
  type SyntheticDealer,
} from './synthetic.js';

const CORP = 'wwanomalytest';
const advisor = (userid: string, label = userid): KpiUnit => ({
  kind: 'advisor',
  id: `${CORP}:${userid}`,
  corpId: CORP,
  label,
});
const obs = (numerator: number, denominator: number): Observation => ({ numerator, denominator });
const flat = (numerator: number, denominator: number, weeks = 8) =>
  Array.from({ length: weeks }, () => obs(numerator, denominator));
const judge = (units: AnomalyUnitInput[], options = {}) =>
  detectAnomalies({ metric: SYNTHETIC_ON_TIME, period: '2026-03-02', units }, options);
const isFlagged = (dealer: SyntheticDealer, flags: ReturnType<typeof detectAnomalies>, a: number) =>
  flags.some((f) => f.unit.id === dealer.advisors[a]!.unit.id);

/** Detection rate of a planted drop over 200 seeds, 5 planted advisors each, for planted weeks with at least `minVolume` tasks due. */
function detectionRate(drop: number, minVolume: number): { found: number; planted: number } {
  let found = 0;
  let planted = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const dealer = syntheticDealer({
      seed,
      advisors: 40,
      weeks: 12,
      planted: [0, 1, 2, 3, 4].map((a) => ({ advisor: a, week: 10, drop })),
    });
    const flags = detectAnomalies(anomalyInputForWeek(dealer, SYNTHETIC_ON_TIME, 10));
    for (let a = 0; a < 5; a++) {
      if (dealer.advisors[a]!.weeks[10]!.obs.denominator < minVolume) continue;
      planted++;
      if (isFlagged(dealer, flags, a)) found++;
    }
  }
  return { found, planted };
}

describe('robust statistics', () => {
  it('median and MAD of odd, even and empty lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(mad([1, 1, 2, 2, 4, 6, 9])).toBe(1);
  });

  it('the PRNG is deterministic per seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });
});

describe('detectAnomalies on the synthetic dealer', () => {
  it('finds large planted drops in a given dealer and nothing else that week', () => {
    const dealer = syntheticDealer({
      seed: 11,
      advisors: 30,
      weeks: 10,
      smallShare: 0,
      planted: [
        { advisor: 2, week: 9, drop: 0.6, volume: 30 },
        { advisor: 5, week: 9, drop: 0.65, volume: 25 },
      ],
    });
    const flags = detectAnomalies(anomalyInputForWeek(dealer, SYNTHETIC_ON_TIME, 9));
    expect(flags.map((f) => f.unit.id).sort()).toEqual(
      [dealer.advisors[2]!.unit.id, dealer.advisors[5]!.unit.id].sort(),
    );
    for (const f of flags) {
      expect(f).toMatchObject({ metric: 'on_time_rate', period: dealer.weeks[9], direction: 'low' });
      expect(f.ownScore!).toBeLessThanOrEqual(-DEFAULT_ANOMALY_OPTIONS.threshold);
      expect(f.peerScore!).toBeLessThanOrEqual(-DEFAULT_ANOMALY_OPTIONS.peerThreshold);
    }
  });

  it('detection power by drop size (200 seeds × 5 planted advisors): ≥ 99 % for 65 points at ≥ 20 tasks, ≥ 90 % for 45 points at ≥ 30 tasks', () => {
    const huge = detectionRate(0.65, 20);
    const large = detectionRate(0.45, 30);
    const medium = detectionRate(0.25, 30);
    const small = detectionRate(0.1, 30);
    expect(huge.found / huge.planted).toBeGreaterThanOrEqual(0.99);
    expect(large.found / large.planted).toBeGreaterThanOrEqual(0.9);
    // A 25-point drop is found about 40 % of the time at this volume, a 10-point one almost never:
    // weekly binomial noise at 30 tasks is ±7 points, so the threshold sits well above it.
    expect(medium.found / medium.planted).toBeGreaterThan(0.25);
    expect(small.found / small.planted).toBeLessThan(0.1);
  });

  it('normal weeks: the false-positive rate over 200 seeds × 40 advisors × 4 weeks stays under 0.5 % of unit-weeks', () => {
    let flagged = 0;
    let judged = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const dealer = syntheticDealer({ seed, advisors: 40, weeks: 12 });
      for (let w = 8; w < 12; w++) {
        flagged += detectAnomalies(anomalyInputForWeek(dealer, SYNTHETIC_ON_TIME, w)).length;
        judged += dealer.advisors.filter(
          (a) => a.weeks[w]!.obs.denominator >= DEFAULT_ANOMALY_OPTIONS.minVolume,
        ).length;
      }
    }
    expect(judged).toBeGreaterThan(25_000);
    expect(flagged / judged).toBeLessThan(0.005);
  });

  it('never flags advisors below the minimum volume, even when their rate collapses', () => {
    const dealer = syntheticDealer({ seed: 5, advisors: 40, weeks: 12, smallShare: 0.3 });
    const small = dealer.advisors.filter((a) => a.meanVolume < 10);
    expect(small.length).toBeGreaterThan(3);
    for (const a of small)
      a.weeks[11] = { obs: obs(0, Math.min(9, Math.max(1, a.weeks[11]!.obs.denominator))), overdue: 1 };
    const flags = detectAnomalies(anomalyInputForWeek(dealer, SYNTHETIC_ON_TIME, 11));
    expect(flags.filter((f) => small.some((a) => a.unit.id === f.unit.id))).toEqual([]);
    expect(flags.every((f) => f.volume >= DEFAULT_ANOMALY_OPTIONS.minVolume)).toBe(true);
  });

  it('a drop shared by the whole dealer (a holiday week) flags only the worst few, not everyone: the peer check', () => {
    const dealer = syntheticDealer({
      seed: 3,
      advisors: 30,
      weeks: 10,
      smallShare: 0,
      planted: Array.from({ length: 30 }, (_, a) => ({ advisor: a, week: 9, drop: 0.4 })),
    });
    const input = anomalyInputForWeek(dealer, SYNTHETIC_ON_TIME, 9);
    expect(detectAnomalies(input, { peerThreshold: -Infinity }).length).toBeGreaterThanOrEqual(20);
    const flags = detectAnomalies(input);
    expect(flags.length).toBeLessThanOrEqual(3);
    for (const f of flags) expect(f.value).toBeLessThan(f.peers! - 0.15);
  });
});

describe('explanations and drill-downs', () => {
  const team = (current: Observation, context?: Record<string, number>): AnomalyUnitInput[] => [
    { unit: advisor('zhangwei', '张伟'), current, history: flat(22, 25), context },
    ...['lina', 'liuyang', 'zhaolei', 'sunli', 'wuhao'].map((u, i) => ({
      unit: advisor(u),
      current: obs(19 + (i % 3), 24),
      history: flat(20, 24),
    })),
  ];

  it('says the value, the usual, the peers and the overdue count in English and Chinese', () => {
    const [flag] = judge(team(obs(6, 15), { overdue: 9 }));
    expect(flag).toBeDefined();
    expect(flag!.explanation.en).toBe(
      "张伟's on-time rate 40% vs their usual 88% and the dealer's 83%; 9 of 15 tasks overdue",
    );
    expect(flag!.explanation.zh).toBe('张伟的按时完成率 40%（常态 88%，本店顾问 83%）；15 项任务中 9 项逾期');
    expect(flag).toMatchObject({ value: 0.4, usual: 0.88, volume: 15, direction: 'low' });
  });

  it('drills down to the advisor’s overdue tasks of that week', () => {
    const [flag] = judge(team(obs(6, 15)));
    expect(flag!.drillDown).toEqual({
      path: '/tasks',
      query: { corpId: CORP, advisor: 'zhangwei', overdue: 'true', from: '2026-03-02', to: '2026-03-08' },
    });
  });

  it('drills down to lost customers for the loss rate, and flags a rise when lower is better', () => {
    const loss: MetricDefinition = {
      ...SYNTHETIC_ON_TIME,
      key: 'loss_rate_30d',
      group: 'relationship',
      higherIsBetter: false,
      label: { zh: '30天流失率', en: 'Loss rate (30 days)' },
    };
    const units = team(obs(12, 20), { lost: 12 }).map((u, i) =>
      i === 0 ? { ...u, history: flat(1, 20) } : { ...u, current: obs(1 + (i % 2), 20), history: flat(1, 20) },
    );
    const [flag] = detectAnomalies({ metric: loss, period: '2026-03-02', units });
    expect(flag).toMatchObject({ direction: 'high', value: 0.6 });
    expect(flag!.drillDown).toEqual({
      path: '/customers',
      query: { corpId: CORP, advisor: 'zhangwei', status: 'lost', from: '2026-03-02', to: '2026-03-08' },
    });
    expect(flag!.explanation.en).toContain('12 customers lost');
    // The same rise in on-time rate (good news) is never flagged.
    expect(judge(team(obs(25, 25)).map((u, i) => (i === 0 ? { ...u, history: flat(10, 25) } : u)))).toEqual([]);
  });
});

describe('edge cases', () => {
  const peers = ['lina', 'liuyang', 'zhaolei', 'sunli', 'wuhao'].map((u) => ({
    unit: advisor(u),
    current: obs(21, 24),
    history: flat(21, 24),
  }));

  it('a perfectly flat history (MAD 0) gives finite scores: one miss is noise, half missed is flagged', () => {
    const steady = (current: Observation) =>
      judge([{ unit: advisor('zhangwei'), current, history: flat(20, 20) }, ...peers]);
    expect(steady(obs(19, 20))).toEqual([]);
    const [flag] = steady(obs(10, 20));
    expect(flag!.ownScore).toBeLessThan(-DEFAULT_ANOMALY_OPTIONS.threshold);
    expect(Number.isFinite(flag!.ownScore)).toBe(true);
  });

  it('all history without volume: only the peer comparison, at the stricter solo threshold', () => {
    const newcomer = (current: Observation) =>
      judge([{ unit: advisor('newbie'), current, history: flat(0, 0) }, ...peers]);
    const [flag] = newcomer(obs(1, 20));
    expect(flag).toMatchObject({ usual: null, ownScore: null });
    expect(flag!.peerScore!).toBeLessThanOrEqual(-DEFAULT_ANOMALY_OPTIONS.soloThreshold);
    expect(flag!.explanation.en).not.toContain('usual');
    expect(newcomer(obs(14, 20))).toEqual([]);
  });

  it('a single-advisor corp has no peers: own history alone, at the solo threshold', () => {
    const alone = (current: Observation) => judge([{ unit: advisor('solo'), current, history: flat(18, 20) }]);
    const [flag] = alone(obs(4, 20));
    expect(flag).toMatchObject({ peers: null, peerScore: null });
    expect(flag!.ownScore!).toBeLessThanOrEqual(-DEFAULT_ANOMALY_OPTIONS.soloThreshold);
    expect(alone(obs(13, 20))).toEqual([]);
  });

  it('options override the defaults (a raised minimum volume silences a flag)', () => {
    const units = [{ unit: advisor('zhangwei'), current: obs(5, 20), history: flat(18, 20) }, ...peers];
    expect(judge(units)).toHaveLength(1);
    expect(judge(units, { minVolume: 21 })).toEqual([]);
  });
});
