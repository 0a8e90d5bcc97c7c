import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { sleep } from './backoff.js';
import { WecomApiError } from './errors.js';

export interface CorpCredentials {
  corpId: string;
  /** The self-built app's secret. Never logged, never leaves the server. */
  secret: string;
  agentId?: number;
}

export interface FetchedToken {
  accessToken: string;
  /** Seconds, as `expires_in` from gettoken. */
  expiresIn: number;
}

interface CachedToken {
  /** The access token (sealed in Redis: `sealToken`). */
  t: string;
  /** Expiry in the injected clock's milliseconds (follows the shared test offset). */
  exp: number;
  /** When to refresh: `exp` minus the margin (at most a tenth of the lifetime). */
  r: number;
}

export interface TokenCacheOptions {
  redis: Redis;
  keyPrefix: string;
  /**
   * What is cached: `token` (access tokens, the default) or a JS-SDK ticket kind
   * (docs/wecom.md §10.2). Part of the Redis key, so each kind has its own entry and lock.
   */
  kind?: string;
  clock: Clock;
  logger: Logger;
  /** Calls gettoken. Invoked by at most one process at a time per (corp, secret). */
  fetchToken: (creds: CorpCredentials) => Promise<FetchedToken>;
  /** Refresh this long before expiry (default 5 min, capped at a tenth of the lifetime). */
  refreshMarginMs?: number;
  /** How long the refresh lock is held at most (default 15 s). */
  lockTtlMs?: number;
  /** How long a waiter waits for another process's refresh (default 20 s). */
  waitTimeoutMs?: number;
  /** Poll interval while waiting (default 25 ms). */
  pollMs?: number;
}

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** `${prefix}:wecom:token:${corpId}:${sha256(secret)[0..12]}`: one token per app secret (docs/wecom.md §3.1). */
export function tokenKey(keyPrefix: string, creds: CorpCredentials, kind = 'token'): string {
  const secretHash = createHash('sha256').update(creds.secret).digest('hex').slice(0, 12);
  return `${keyPrefix}:wecom:${kind}:${creds.corpId}:${secretHash}`;
}

/**
 * Access tokens cached in Redis and shared by every process (docs/wecom.md §3.1: "do not call
 * gettoken frequently"). Refresh is single-flight across processes: one holder of a Redis lock
 * calls gettoken; the others poll the cache until the new token appears. Inside a process,
 * concurrent callers share one promise.
 */
export class TokenCache {
  private readonly inflight = new Map<string, Promise<string>>();
  /**
   * The token last read from Redis, opened, per cache key, used until its refresh time: a call
   * costs no Redis read and no decryption. A token another process replaced meanwhile (after a
   * 40014/42001) is still tried once here; WeCom refuses it, `refresh` drops it and reads the new one.
   */
  private readonly held = new Map<string, { secret: string; token: CachedToken }>();
  private readonly keys = new Map<string, string>();
  private readonly marginMs: number;
  private readonly lockTtlMs: number;
  private readonly waitTimeoutMs: number;
  private readonly pollMs: number;
  private readonly what: string;

  constructor(private readonly opts: TokenCacheOptions) {
    this.marginMs = opts.refreshMarginMs ?? 5 * 60_000;
    this.lockTtlMs = opts.lockTtlMs ?? 15_000;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? 20_000;
    this.pollMs = opts.pollMs ?? 25;
    this.what = opts.kind && opts.kind !== 'token' ? opts.kind : 'gettoken';
  }

  /** A valid token, from the cache or by a (single-flight) refresh. */
  async get(creds: CorpCredentials): Promise<string> {
    const key = this.keyOf(creds);
    const held = this.held.get(key);
    if (held && held.secret === creds.secret && this.fresh(held.token)) return held.token.t;
    const cached = await this.read(key, creds);
    if (cached && this.fresh(cached)) {
      this.held.set(key, { secret: creds.secret, token: cached });
      return cached.t;
    }
    return this.refresh(creds, cached?.t);
  }

  /** The Redis key of an app's entry (its secret's hash computed once per app). */
  private keyOf(creds: CorpCredentials): string {
    const id = `${creds.corpId}\u0000${creds.secret}`;
    let key = this.keys.get(id);
    if (!key) {
      key = tokenKey(this.opts.keyPrefix, creds, this.opts.kind);
      if (this.keys.size > 1000) this.keys.clear();
      this.keys.set(id, key);
    }
    return key;
  }

  /**
   * Replaces `staleToken` (expired, or rejected with 40014/42001). If another process already
   * replaced it, returns that newer token without calling gettoken.
   */
  refresh(creds: CorpCredentials, staleToken?: string): Promise<string> {
    const key = this.keyOf(creds);
    // The token held in memory is the stale one (or older): the next get reads Redis again.
    this.held.delete(key);
    const flightKey = `${key}|${staleToken ?? ''}`;
    const existing = this.inflight.get(flightKey);
    if (existing) return existing;
    const promise = this.refreshAcrossProcesses(creds, key, staleToken).finally(() => this.inflight.delete(flightKey));
    this.inflight.set(flightKey, promise);
    return promise;
  }

  private async refreshAcrossProcesses(
    creds: CorpCredentials,
    key: string,
    staleToken: string | undefined,
  ): Promise<string> {
    const lockKey = `${key}:lock`;
    const failedKey = `${key}:failed`;
    const owner = randomUUID();
    const deadline = Date.now() + this.waitTimeoutMs;
    for (;;) {
      const failed = await this.opts.redis.get(failedKey);
      if (failed)
        throw new WecomApiError(
          Number(failed),
          `${this.what} failed recently (cached for 60 s; check the corp id and secret)`,
          this.what,
          creds.corpId,
        );
      const current = await this.read(key, creds);
      if (current && current.t !== staleToken && this.fresh(current)) return current.t;
      const locked = await this.opts.redis.set(lockKey, owner, 'PX', this.lockTtlMs, 'NX');
      if (locked === 'OK') {
        try {
          // Double-check: a refresh may have landed between our read and the lock.
          const again = await this.read(key, creds);
          if (again && again.t !== staleToken && this.fresh(again)) return again.t;
          const fetched = await this.opts.fetchToken(creds).catch(async (err: unknown) => {
            // A wrong secret retried by every process gets the IP banned for an hour (docs/wecom.md §3.1).
            if (err instanceof WecomApiError && err.kind === 'config')
              await this.opts.redis.set(failedKey, String(err.errcode), 'PX', 60_000);
            throw err;
          });
          const lifetimeMs = fetched.expiresIn * 1000;
          const exp = this.opts.clock.nowMs() + lifetimeMs;
          const value: CachedToken = {
            t: sealToken(creds, key, fetched.accessToken),
            exp,
            r: exp - Math.min(this.marginMs, lifetimeMs / 10),
          };
          await this.opts.redis.set(key, JSON.stringify(value), 'PX', Math.max(1000, fetched.expiresIn * 1000));
          this.opts.logger.debug(
            { corpId: creds.corpId, kind: this.opts.kind ?? 'token', expiresIn: fetched.expiresIn },
            'wecom credential refreshed',
          );
          return fetched.accessToken;
        } finally {
          await this.opts.redis.eval(RELEASE_LOCK, 1, lockKey, owner).catch(() => undefined);
        }
      }
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for another process to refresh the WeCom ${this.opts.kind ?? 'token'} of corp ${creds.corpId}`,
        );
      await sleep(this.pollMs);
    }
  }

  /** Forgets the cached token (admin action, secret rotation). */
  async clear(creds: CorpCredentials): Promise<void> {
    await this.opts.redis.del(tokenKey(this.opts.keyPrefix, creds, this.opts.kind));
  }

  private fresh(token: CachedToken): boolean {
    return this.opts.clock.nowMs() < token.r;
  }

  /** The cached token opened; a value that does not open (old clear format, other secret) is a miss. */
  private async read(key: string, creds: CorpCredentials): Promise<CachedToken | undefined> {
    const raw = await this.opts.redis.get(key);
    if (!raw) return undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<CachedToken>;
      if (typeof parsed.t !== 'string' || typeof parsed.exp !== 'number' || typeof parsed.r !== 'number')
        return undefined;
      const t = openToken(creds, key, parsed.t);
      return t === undefined ? undefined : { t, exp: parsed.exp, r: parsed.r };
    } catch {
      return undefined;
    }
  }
}

/**
 * Access tokens are sealed in Redis (docs/security.md, "Data at rest and in transit"): AES-256-GCM
 * under a key derived (HKDF) from the app secret, bound to the cache key. Every process that may
 * use the token holds the secret; a Redis dump or replica alone does not hand out API access.
 */
const tokenKeys = new Map<string, Buffer>();
function tokenSealKey(creds: CorpCredentials): Buffer {
  const id = `${creds.corpId}\u0000${creds.secret}`;
  let key = tokenKeys.get(id);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', creds.secret, creds.corpId, 'scrm wecom token cache', 32));
    if (tokenKeys.size > 1000) tokenKeys.clear();
    tokenKeys.set(id, key);
  }
  return key;
}

export function sealToken(creds: CorpCredentials, cacheKey: string, token: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', tokenSealKey(creds), iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(cacheKey));
  const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return `s1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}

export function openToken(creds: CorpCredentials, cacheKey: string, sealed: string): string | undefined {
  if (!sealed.startsWith('s1.')) return undefined;
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  if (raw.length < 29) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', tokenSealKey(creds), raw.subarray(0, 12), { authTagLength: 16 });
    decipher.setAuthTag(raw.subarray(12, 28));
    decipher.setAAD(Buffer.from(cacheKey));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
