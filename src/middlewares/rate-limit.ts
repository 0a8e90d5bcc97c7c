import type { Redis } from 'ioredis';
import type { Context, Next } from 'koa';
import { principalOf } from './auth.js';
import { RateLimitedError } from './errors.js';

export interface RateLimitOptions {
  redis: Redis;
  prefix: string;
  /** Requests per token per window. */
  limit: number;
  windowMs?: number;
  /** Wall-clock ms; the window is aligned to it (tests pass a fixed one). */
  nowMs?: () => number;
}

/**
 * Per-token fixed-window rate limit in Redis (reliability §5, G2): one INCR plus an expiry per
 * request, shared by every web instance; over the limit → 429 with Retry-After (the seconds to
 * the next window). When Redis does not answer, requests pass: the admin API must not go down
 * with the queue store, and MongoDB still bounds the work.
 */
export function createRateLimit(opts: RateLimitOptions) {
  const windowMs = opts.windowMs ?? 60_000;
  const now = opts.nowMs ?? Date.now;
  return async function rateLimit(ctx: Context, next: Next): Promise<void> {
    const { tokenId } = principalOf(ctx);
    const t = now();
    const window = Math.floor(t / windowMs);
    const key = `${opts.prefix}:ratelimit:api:${tokenId}:${window}`;
    let count: number | undefined;
    try {
      const result = await opts.redis.multi().incr(key).pexpire(key, windowMs * 2).exec();
      count = Number(result?.[0]?.[1]);
    } catch {
      count = undefined;
    }
    if (count !== undefined && count > opts.limit) {
      throw new RateLimitedError(Math.max(1, Math.ceil(((window + 1) * windowMs - t) / 1000)));
    }
    if (count !== undefined) ctx.set('X-RateLimit-Remaining', String(Math.max(0, opts.limit - count)));
    await next();
  };
}
