import type { Redis } from 'ioredis';
import type { Context, Next } from 'koa';
import { principalOf } from './auth.js';
import { RateLimitedError } from '../infra/errors.js';

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
 * Per-token fixed-window rate limit in Redis (docs/security.md, "Rate limits"): one INCR plus an expiry per
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
      const result = await opts.redis
        .multi()
        .incr(key)
        .pexpire(key, windowMs * 2)
        .exec();
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

export interface ClientRateLimitOptions {
  redis: Redis;
  prefix: string;
  /** Names the counter, so different limits on the same client do not share it. */
  bucket: string;
  /** Requests (or failures) per client IP per window. */
  limit: number;
  windowMs?: number;
  nowMs?: () => number;
}

/**
 * One fixed-window counter per client IP in Redis. Keys expire after two windows, so the number
 * of keys is bounded by the clients seen in that time whatever they send. The client IP is
 * `ctx.ip`, which honours X-Forwarded-For only for the proxies TRUST_PROXY declares (src/app.ts).
 */
class ClientWindow {
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: ClientRateLimitOptions) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.now = opts.nowMs ?? Date.now;
  }

  private at(ip: string): { key: string; retryAfterS: number } {
    const t = this.now();
    const window = Math.floor(t / this.windowMs);
    return {
      key: `${this.opts.prefix}:ratelimit:ip:${this.opts.bucket}:${ip.slice(0, 64)}:${window}`,
      retryAfterS: Math.max(1, Math.ceil(((window + 1) * this.windowMs - t) / 1000)),
    };
  }

  /** Counts one request; the count, or undefined when Redis does not answer. */
  async hit(ip: string): Promise<{ count: number | undefined; retryAfterS: number }> {
    const { key, retryAfterS } = this.at(ip);
    try {
      const result = await this.opts.redis
        .multi()
        .incr(key)
        .pexpire(key, this.windowMs * 2)
        .exec();
      return { count: Number(result?.[0]?.[1]), retryAfterS };
    } catch {
      return { count: undefined, retryAfterS };
    }
  }

  async peek(ip: string): Promise<{ count: number; retryAfterS: number }> {
    const { key, retryAfterS } = this.at(ip);
    const raw = await this.opts.redis.get(key).catch(() => null);
    return { count: Number(raw ?? 0), retryAfterS };
  }
}

/**
 * Per-client limit for endpoints anyone can call without signing in (console sign-in, the
 * OpenAPI document): over `limit` requests per IP per window → 429 with Retry-After. Like the
 * per-token limit, requests pass while Redis does not answer (docs/security.md, "Rate limits").
 */
export function createClientRateLimit(opts: ClientRateLimitOptions) {
  const counter = new ClientWindow(opts);
  return async function clientRateLimit(ctx: Context, next: Next): Promise<void> {
    const { count, retryAfterS } = await counter.hit(ctx.ip);
    if (count !== undefined && count > opts.limit) throw new RateLimitedError(retryAfterS);
    await next();
  };
}

/**
 * Slows down guessing of tokens and session ids: a request that presented a credential (a bearer
 * token or a session cookie) and was refused with 401 counts against its client IP; once `limit`
 * failures are reached in a window, every request from that IP gets 429 until the window ends,
 * before any credential is checked. Requests without credentials are not counted, so a console
 * page asking "am I signed in?" never locks anyone out.
 */
export function createAuthFailureLimit(opts: ClientRateLimitOptions & { hasCredential: (ctx: Context) => boolean }) {
  const counter = new ClientWindow(opts);
  return async function authFailureLimit(ctx: Context, next: Next): Promise<void> {
    const { count, retryAfterS } = await counter.peek(ctx.ip);
    if (count >= opts.limit) throw new RateLimitedError(retryAfterS);
    try {
      await next();
    } catch (err) {
      if ((err as { status?: number }).status === 401 && opts.hasCredential(ctx)) await counter.hit(ctx.ip);
      throw err;
    }
  };
}
