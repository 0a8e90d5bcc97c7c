/**
 * Uplift statistics for holdout campaigns (docs/outcomes.md, "Holdout and uplift"): the Wilson
 * score interval of each group's outcome rate and Newcombe's hybrid score interval (his method 10,
 * Statistics in Medicine 1998) for the difference treated − held out. Pure functions.
 */

/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

export function wilsonInterval(successes: number, n: number, z = Z95): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface Uplift {
  /** Treated rate − held-out rate. */
  difference: number;
  low: number;
  high: number;
  confidence: number;
  method: 'newcombe-wilson';
  /** The interval excludes 0. */
  significant: boolean;
}

/** Newcombe's hybrid score interval for p1 − p2 (treated minus held out). */
export function upliftInterval(
  treated: { successes: number; n: number },
  heldOut: { successes: number; n: number },
  z = Z95,
): Uplift | undefined {
  if (treated.n === 0 || heldOut.n === 0) return undefined;
  const p1 = treated.successes / treated.n;
  const p2 = heldOut.successes / heldOut.n;
  const w1 = wilsonInterval(treated.successes, treated.n, z);
  const w2 = wilsonInterval(heldOut.successes, heldOut.n, z);
  const d = p1 - p2;
  const low = d - Math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2);
  const high = d + Math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2);
  return { difference: d, low, high, confidence: 0.95, method: 'newcombe-wilson', significant: low > 0 || high < 0 };
}
