/**
 * A mergeable median for durations (docs/cockpit.md): daily rollups keep a sparse histogram of
 * `completedAt − dueAt` over fixed log-scale buckets, so any range of days and any set of units
 * merges by adding counts. Bucket 0 holds everything ≤ 1 minute (done early counts as 0); bucket
 * k ≥ 1 holds (1 min · 2^((k−1)/4), 1 min · 2^(k/4)]. A median read from a bucket is its geometric
 * midpoint, so the relative error is at most 2^(1/8) − 1 ≈ 9.05 % (documented in docs/cockpit.md).
 */
export type DurationHistogram = Record<string, number>;

const BASE_MS = 60_000;
const STEPS_PER_DOUBLING = 4;
/** 2^(100/4) minutes ≈ 64 years: anything longer lands in the last bucket. */
const MAX_BUCKET = 100;

export function bucketOf(ms: number): number {
  if (!(ms > BASE_MS)) return 0;
  return Math.min(MAX_BUCKET, Math.ceil(Math.log2(ms / BASE_MS) * STEPS_PER_DOUBLING));
}

/** The value a bucket stands for: 0 for bucket 0, else the geometric midpoint of its bounds. */
export function bucketValue(bucket: number): number {
  if (bucket <= 0) return 0;
  return Math.round(BASE_MS * 2 ** ((bucket - 0.5) / STEPS_PER_DOUBLING));
}

export function addToHistogram(h: DurationHistogram, ms: number): void {
  const k = String(bucketOf(ms));
  h[k] = (h[k] ?? 0) + 1;
}

export function mergeHistograms(
  into: DurationHistogram,
  from: DurationHistogram | undefined | null,
): DurationHistogram {
  for (const [k, n] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + n;
  return into;
}

/** The (lower) median of the merged observations, or null when there are none. */
export function histogramMedian(h: DurationHistogram): number | null {
  const entries = Object.entries(h)
    .map(([k, n]) => [Number(k), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.ceil(total / 2);
  let seen = 0;
  for (const [k, n] of entries) {
    seen += n;
    if (seen >= rank) return bucketValue(k);
  }
  return null;
}
