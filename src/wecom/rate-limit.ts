import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from './backoff.js';

/**
 * Redis-backed throttles shared by every process (docs/wecom.md §5): a fixed-window rate limit per
 * (corp, endpoint), a block window after WeCom answers 45009, a leased semaphore for endpoints
 * with a concurrency cap (45033), and a mutex per record (45035). Windows and leases are real
 * time (Redis PEXPIRE), since WeCom's limits are.
 */

/**
 * KEYS[1]=window, KEYS[2]=block; ARGV[1]=limit, ARGV[2]=windowMs, ARGV[3]=k (calls asking).
 * Exactly what k single takes in a row would do: each counts in the window, the first
 * `limit - count` of them go. Returns {granted, ms to wait for the others}.
 */
const TAKE = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {0, blocked} end
local k = tonumber(ARGV[3])
local n = redis.call('INCRBY', KEYS[1], k)
if n == k then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local granted = math.max(0, math.min(k, tonumber(ARGV[1]) - (n - k)))
if granted < k then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
  return {granted, ttl}
end
return {granted, 0}`;

/** KEYS[1]=block; ARGV[1]=ms. Extends the block, never shortens it. */
const BLOCK = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1`;

/** KEYS[1]=zset; ARGV[1]=now, ARGV[2]=limit, ARGV[3]=leaseUntil, ARGV[4]=holder. 1 = acquired. */
const SEM_ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.max(1000, tonumber(ARGV[3]) - tonumber(ARGV[1])))
  return 1
end
return 0`;

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * A call's throttles in one run (docs/wecom.md §5): the record lock, a semaphore slot and the
 * rate-window take. KEYS[1]=window, KEYS[2]=block, then the lock key if ARGV[4]=='1', then the
 * semaphore key if ARGV[5]=='1' (all four under the call's `{corp:endpoint}` tag).
 * ARGV[1]=limit, ARGV[2]=windowMs, ARGV[3]=owner (lock value and semaphore holder),
 * ARGV[6]=lock leaseMs, ARGV[7]=now, ARGV[8]=semaphore limit, ARGV[9]=semaphore leaseUntil.
 * Returns {0, wait}: lock and slot taken, wait = ms until the window has room (0 = go);
 * {1, 0}: the lock is held by another, nothing changed; {2, 0}: the semaphore is full, nothing
 * changed (expired holders pruned, as SEM_ACQUIRE does).
 */
const ACQUIRE_CALL = `
local n = 3
local lock, sem
if ARGV[4] == '1' then lock = KEYS[n]; n = n + 1 end
if ARGV[5] == '1' then sem = KEYS[n] end
if lock and redis.call('EXISTS', lock) == 1 then return {1, 0} end
if sem then
  redis.call('ZREMRANGEBYSCORE', sem, '-inf', ARGV[7])
  if redis.call('ZCARD', sem) >= tonumber(ARGV[8]) then return {2, 0} end
end
if lock then redis.call('SET', lock, ARGV[3], 'PX', ARGV[6]) end
if sem then
  redis.call('ZADD', sem, ARGV[9], ARGV[3])
  redis.call('PEXPIRE', sem, math.max(1000, tonumber(ARGV[9]) - tonumber(ARGV[7])))
end
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {0, blocked} end
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if count > tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
  return {0, math.max(1, ttl)}
end
return {0, 0}`;

/**
 * KEYS: the lock key if ARGV[2]=='1', then the semaphore key if ARGV[3]=='1'; ARGV[1]=owner.
 * Deletes the lock if this call still owns it and frees its semaphore slot.
 */
const RELEASE_CALL = `
local n = 1
if ARGV[2] == '1' then
  if redis.call('GET', KEYS[n]) == ARGV[1] then redis.call('DEL', KEYS[n]) end
  n = n + 1
end
if ARGV[3] == '1' then redis.call('ZREM', KEYS[n], ARGV[1]) end
return 1`;

export interface RateLimitOptions {
  redis: Redis;
  keyPrefix: string;
  /** Calls per window per (corp, endpoint). Default 8,000 per minute: below WeCom's 10,000. */
  defaultLimit?: number;
  windowMs?: number;
  /** Per-endpoint overrides of the limit per window (endpoint names as in the client). */
  limits?: Readonly<Record<string, number>>;
  /** How long acquire() waits before giving up (default 30 s). */
  maxWaitMs?: number;
}

/** Thrown when a local throttle could not be passed in time; treated like 45009 by callers. */
export class LocalThrottleError extends Error {
  readonly retryable = true;
  constructor(
    readonly what: string,
    readonly waitMs: number,
  ) {
    super(`local WeCom throttle "${what}" still closed after waiting; retry in ~${waitMs} ms`);
    this.name = 'LocalThrottleError';
  }
}

export type Release = () => Promise<void>;

/** What a call holds while it runs besides its rate-window take (CallSpec's lockKey and concurrency). */
export interface CallThrottles {
  /** A mutex per record (45035), e.g. one advisor–customer pair. */
  lock?: string;
  /** A cap on calls in flight (45033). */
  concurrency?: { name: string; limit: number };
  /** Lease of the lock and the slot, so a crashed holder frees them. Default 30 s. */
  leaseMs?: number;
}

const released: Release = async () => undefined;

interface Waiter {
  resolve: (waitMs: number) => void;
  reject: (err: unknown) => void;
}

/**
 * The window and block keys of one (corp, endpoint) share a hash tag, and so do the lock and
 * semaphore keys of a call on it: TAKE and ACQUIRE_CALL read them together, and a Redis Cluster
 * runs a script only on keys of one slot (docs/scale.md, "Hash slots").
 */
const slotTag = (corpId: string, endpoint: string): string => `{${corpId}:${endpoint}}`;

export class WecomThrottle {
  private readonly defaultLimit: number;
  private readonly windowMs: number;
  private readonly maxWaitMs: number;

  constructor(private readonly opts: RateLimitOptions) {
    this.defaultLimit = opts.defaultLimit ?? 8000;
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxWaitMs = opts.maxWaitMs ?? 30_000;
  }

  private key(...parts: string[]): string {
    return [this.opts.keyPrefix, 'wecom', ...parts].join(':');
  }

  /**
   * Waits for a slot in the (corp, endpoint) window or an active 45009 block to pass. The calls
   * of one (corp, endpoint) that ask within one turn of the event loop (the welcome lane's jobs
   * go on together after their batched MongoDB read, src/domain/rules/welcome-ledger.ts) share
   * one script run: it counts and grants them as that many single takes would, and nothing is
   * granted ahead of a call.
   */
  async acquire(corpId: string, endpoint: string): Promise<void> {
    const deadline = Date.now() + this.maxWaitMs;
    await this.passWindow(corpId, endpoint, await this.take(corpId, endpoint), deadline);
  }

  /** Sleeps out `wait` and takes again until the window grants the call or `deadline` would pass. */
  private async passWindow(corpId: string, endpoint: string, wait: number, deadline: number): Promise<void> {
    for (;;) {
      if (wait <= 0) return;
      if (Date.now() + wait > deadline) throw new LocalThrottleError(`rate:${endpoint}`, wait);
      await sleep(wait + Math.floor(Math.random() * 50));
      wait = await this.take(corpId, endpoint);
    }
  }

  /**
   * A call's throttles in one Redis round trip, its release in one more (docs/wecom.md §5): the
   * record lock (`lock`), a semaphore slot (`concurrency`) and the rate-window take, taken
   * together by one script. A held lock or a full semaphore changes nothing, and the call retries
   * with the backoff lock() and semaphore() use; once both are granted the call keeps them while
   * it waits for the window, then takes on its own like acquire(). Each part gives up after
   * `maxWaitMs` of waiting on it with a LocalThrottleError, as the separate calls do; the lock
   * and slot are then freed. Without a lock or a cap this is acquire() (batched takes).
   */
  async acquireCall(corpId: string, endpoint: string, parts: CallThrottles): Promise<Release> {
    if (!parts.lock && !parts.concurrency) {
      await this.acquire(corpId, endpoint);
      return released;
    }
    const tag = slotTag(corpId, endpoint);
    const keys = [this.key('rl', tag), this.key('rl-block', tag)];
    if (parts.lock) keys.push(this.key('lock', tag, parts.lock));
    if (parts.concurrency) keys.push(this.key('sem', tag, parts.concurrency.name));
    const flags = [parts.lock ? '1' : '0', parts.concurrency ? '1' : '0'] as const;
    const owner = randomUUID();
    const leaseMs = parts.leaseMs ?? 30_000;
    const limit = this.opts.limits?.[endpoint] ?? this.defaultLimit;
    const release: Release = async () => {
      await this.opts.redis
        .eval(RELEASE_CALL, keys.length - 2, ...keys.slice(2), owner, ...flags)
        .catch(() => undefined);
    };
    const waiting = {
      lock: { what: `lock:${parts.lock}`, deadline: 0, delay: 5 },
      sem: { what: `concurrency:${parts.concurrency?.name}`, deadline: 0, delay: 5 },
    };
    for (;;) {
      const now = Date.now();
      const [code, wait] = (await this.opts.redis.eval(
        ACQUIRE_CALL,
        keys.length,
        ...keys,
        limit,
        this.windowMs,
        owner,
        ...flags,
        leaseMs,
        now,
        parts.concurrency?.limit ?? 0,
        now + leaseMs,
      )) as [number, number];
      if (Number(code) === 0) {
        try {
          await this.passWindow(corpId, endpoint, Number(wait), now + this.maxWaitMs);
        } catch (err) {
          await release();
          throw err;
        }
        return release;
      }
      // Each part's wait runs from the first time it made the call wait, as lock() and
      // semaphore() count theirs from their start.
      const part = Number(code) === 1 ? waiting.lock : waiting.sem;
      if (part.deadline === 0) part.deadline = now + this.maxWaitMs;
      if (Date.now() > part.deadline) throw new LocalThrottleError(part.what, part.delay);
      await sleep(part.delay + Math.floor(Math.random() * part.delay));
      part.delay = Math.min(part.delay * 2, 100);
    }
  }

  private readonly asking = new Map<string, { corpId: string; endpoint: string; waiters: Array<Waiter> }>();
  private askScheduled = false;

  /** One take for this call, run with the others asked for in this turn: 0 = go, else ms to wait. */
  private take(corpId: string, endpoint: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const id = `${corpId}\u0000${endpoint}`;
      let entry = this.asking.get(id);
      if (!entry) {
        entry = { corpId, endpoint, waiters: [] };
        this.asking.set(id, entry);
      }
      entry.waiters.push({ resolve, reject });
      if (!this.askScheduled) {
        this.askScheduled = true;
        setImmediate(() => this.runTakes());
      }
    });
  }

  private runTakes(): void {
    this.askScheduled = false;
    const batch = [...this.asking.values()];
    this.asking.clear();
    for (const { corpId, endpoint, waiters } of batch) {
      const limit = this.opts.limits?.[endpoint] ?? this.defaultLimit;
      (
        this.opts.redis.eval(
          TAKE,
          2,
          this.key('rl', slotTag(corpId, endpoint)),
          this.key('rl-block', slotTag(corpId, endpoint)),
          limit,
          this.windowMs,
          waiters.length,
        ) as Promise<[number, number]>
      ).then(
        ([granted, wait]) => {
          for (const [i, w] of waiters.entries()) w.resolve(i < Number(granted) ? 0 : Math.max(1, Number(wait)));
        },
        (err: unknown) => {
          for (const w of waiters) w.reject(err);
        },
      );
    }
  }

  /** After a 45009: every process pauses this (corp, endpoint) for `ms`. */
  async block(corpId: string, endpoint: string, ms: number): Promise<void> {
    await this.opts.redis.eval(BLOCK, 1, this.key('rl-block', slotTag(corpId, endpoint)), Math.max(1, Math.round(ms)));
  }

  /**
   * A slot among `limit` holders of (corp, name), leased for `leaseMs` so a crashed holder frees
   * its slot. Resolves with the release function. Standalone: the client takes a call's slot with
   * acquireCall(), under other keys.
   */
  async semaphore(corpId: string, name: string, limit: number, leaseMs = 30_000): Promise<Release> {
    const key = this.key('sem', corpId, name);
    const holder = randomUUID();
    const deadline = Date.now() + this.maxWaitMs;
    let delay = 5;
    for (;;) {
      const now = Date.now();
      const got = Number(await this.opts.redis.eval(SEM_ACQUIRE, 1, key, now, limit, now + leaseMs, holder));
      if (got === 1) {
        return async () => {
          await this.opts.redis.zrem(key, holder).catch(() => undefined);
        };
      }
      if (Date.now() > deadline) throw new LocalThrottleError(`concurrency:${name}`, delay);
      await sleep(delay + Math.floor(Math.random() * delay));
      delay = Math.min(delay * 2, 100);
    }
  }

  /**
   * A mutex per record so writes never race (45035). Standalone: the client takes a call's lock
   * with acquireCall(), under other keys.
   */
  async lock(corpId: string, name: string, leaseMs = 30_000): Promise<Release> {
    const key = this.key('lock', corpId, name);
    const owner = randomUUID();
    const deadline = Date.now() + this.maxWaitMs;
    let delay = 5;
    for (;;) {
      if ((await this.opts.redis.set(key, owner, 'PX', leaseMs, 'NX')) === 'OK') {
        return async () => {
          await this.opts.redis.eval(RELEASE_LOCK, 1, key, owner).catch(() => undefined);
        };
      }
      if (Date.now() > deadline) throw new LocalThrottleError(`lock:${name}`, delay);
      await sleep(delay + Math.floor(Math.random() * delay));
      delay = Math.min(delay * 2, 100);
    }
  }
}
