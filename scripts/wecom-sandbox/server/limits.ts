import { z } from 'zod';

/** `POST /__sandbox/limits`: WeCom's throttles, tunable so tests can provoke them. */
export const limitsSchema = z.object({
  /** Calls per window per (corp, endpoint); WeCom: 10,000 per minute (docs/wecom.md §5). */
  defaultPerWindow: z.number().int().min(1).optional(),
  windowMs: z.number().int().min(10).optional(),
  /** After a 45009, the (corp, endpoint) stays blocked this long (WeCom: 60 s for the minute window). */
  blockMs: z.number().int().min(0).optional(),
  perEndpoint: z.record(z.string(), z.number().int().min(1)).optional(),
  /** Simulated processing time per endpoint (ms), so concurrency caps can bite. */
  latencyMs: z.record(z.string(), z.number().int().min(0).max(60_000)).optional(),
  /** mark_tag calls in flight per corp before 45033. */
  markTagConcurrency: z.number().int().min(1).optional(),
  /** Access token lifetime (s). */
  tokenTtlSec: z.number().int().min(1).optional(),
});

export type LimitsPatch = z.output<typeof limitsSchema>;

export interface LimitsConfig {
  defaultPerWindow: number;
  windowMs: number;
  blockMs: number;
  perEndpoint: Record<string, number>;
  latencyMs: Record<string, number>;
  markTagConcurrency: number;
}

export const defaultLimits = (): LimitsConfig => ({
  defaultPerWindow: 10_000,
  windowMs: 60_000,
  blockMs: 0,
  perEndpoint: {},
  latencyMs: {},
  markTagConcurrency: 5,
});

/** Fixed-window rate limit (real time, like WeCom's) and in-flight counters. */
export class Limits {
  config: LimitsConfig = defaultLimits();
  private windows = new Map<string, { start: number; count: number; blockedUntil: number }>();
  private inflight = new Map<string, number>();

  apply(patch: LimitsPatch): LimitsConfig {
    const { tokenTtlSec: _ignored, ...rest } = patch;
    this.config = {
      ...this.config,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      perEndpoint: { ...this.config.perEndpoint, ...patch.perEndpoint },
      latencyMs: { ...this.config.latencyMs, ...patch.latencyMs },
    };
    this.windows.clear();
    return this.config;
  }

  /** Counts a call; false means 45009. */
  allow(corpId: string, endpoint: string): boolean {
    const key = `${corpId}|${endpoint}`;
    const now = Date.now();
    const limit = this.config.perEndpoint[endpoint] ?? this.config.defaultPerWindow;
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.config.windowMs) {
      w = { start: now, count: 0, blockedUntil: w?.blockedUntil ?? 0 };
      this.windows.set(key, w);
    }
    if (now < w.blockedUntil) return false;
    w.count += 1;
    if (w.count > limit) {
      if (this.config.blockMs > 0) w.blockedUntil = now + this.config.blockMs;
      return false;
    }
    return true;
  }

  enter(key: string): number {
    const n = (this.inflight.get(key) ?? 0) + 1;
    this.inflight.set(key, n);
    return n;
  }

  leave(key: string): void {
    const n = (this.inflight.get(key) ?? 1) - 1;
    if (n <= 0) this.inflight.delete(key);
    else this.inflight.set(key, n);
  }

  reset(): void {
    this.config = defaultLimits();
    this.windows.clear();
  }
}
