import { describe, expect, it } from 'vitest';
import { upliftInterval, wilsonInterval } from './uplift.js';

/** mulberry32: a small seeded PRNG, so every run draws the same customers. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One simulated campaign: customers split 90/10 by the holdout, each returns with its group's rate. */
function simulate(seed: number, customers: number, holdoutShare: number, baseRate: number, plantedUplift: number) {
  const r = rng(seed);
  const treated = { successes: 0, n: 0 };
  const heldOut = { successes: 0, n: 0 };
  for (let i = 0; i < customers; i++) {
    const group = r() < holdoutShare ? heldOut : treated;
    group.n++;
    if (r() < baseRate + (group === treated ? plantedUplift : 0)) group.successes++;
  }
  return upliftInterval(treated, heldOut);
}

const SEEDS = Array.from({ length: 400 }, (_, i) => 1000 + i);

describe('uplift intervals (Newcombe hybrid score, 95 %)', () => {
  it('Wilson matches a textbook value (81 of 263: 0.2553–0.3662)', () => {
    const w = wilsonInterval(81, 263);
    expect(w.low).toBeCloseTo(0.2553, 3);
    expect(w.high).toBeCloseTo(0.3662, 3);
  });

  it('Newcombe matches his worked example (56/70 vs 48/80: 0.0524–0.3339)', () => {
    const u = upliftInterval({ successes: 56, n: 70 }, { successes: 48, n: 80 });
    expect(u?.low).toBeCloseTo(0.0524, 3);
    expect(u?.high).toBeCloseTo(0.3339, 3);
    expect(u?.significant).toBe(true);
  });

  it('recovers a planted +5 pt uplift (base 25 %, 6,000 customers, 10 % held out) inside its interval in ≥ 92 % of seeds 1000–1399 (nominal 95 %)', () => {
    const covered = SEEDS.filter((seed) => {
      const u = simulate(seed, 6000, 0.1, 0.25, 0.05);
      return u !== undefined && u.low <= 0.05 && 0.05 <= u.high;
    }).length;
    expect(covered / SEEDS.length).toBeGreaterThanOrEqual(0.92);
  });

  it('reports a rule with no effect (base 25 %, 6,000 customers, 10 % held out) as significant in ≤ 7.5 % of seeds 1000–1399 (nominal 5 %)', () => {
    const significant = SEEDS.filter((seed) => simulate(seed, 6000, 0.1, 0.25, 0)?.significant).length;
    expect(significant / SEEDS.length).toBeLessThanOrEqual(0.075);
  });

  it('has no interval for an empty group, and marks an interval containing 0 as not significant', () => {
    expect(upliftInterval({ successes: 1, n: 10 }, { successes: 0, n: 0 })).toBeUndefined();
    expect(upliftInterval({ successes: 30, n: 100 }, { successes: 28, n: 100 })?.significant).toBe(false);
  });
});
