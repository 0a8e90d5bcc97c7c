import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Principal } from './principal.js';

/** The console's session cookie: an opaque random id, httpOnly, SameSite=Lax. */
export const SESSION_COOKIE = 'scrm_console';
export const SESSION_TTL_S = 12 * 3600;
/**
 * How long a session's principal is trusted before it is checked against its source again (the
 * API token, or the corp's console roles and the member directory): a revoked token, a removed
 * role or a member who left ends or narrows the session within this, well inside a minute.
 */
export const SESSION_REVALIDATE_MS = 30_000;
/** A sign-in round trip to WeCom must finish within this (the OAuth code itself lives 5 minutes). */
export const STATE_TTL_S = 600;

export interface ConsoleSession {
  principal: Principal;
  csrfToken: string;
  /** How the person signed in, for the UI and the audit trail. */
  via: 'wecom' | 'token';
  corpId?: string;
  createdAt: string;
  /** When the principal was last checked against its source (ms; absent = at createdAt). */
  checkedAtMs?: number;
}

/**
 * The principal a session's source gives now, or undefined when the session must end (token
 * revoked, member left, corp switched off, no console role any more). See principal-source.ts.
 */
export type PrincipalRevalidator = (session: ConsoleSession) => Promise<Principal | undefined>;

export interface SessionFreshness {
  revalidate: PrincipalRevalidator;
  /** The injected clock (ms). */
  nowMs: () => number;
  /** Defaults to SESSION_REVALIDATE_MS; at most a minute. */
  maxAgeMs?: number;
}

/**
 * Console sessions and OAuth sign-in states in Redis (issue 9). Keys hold a SHA-256 of the
 * cookie value, so a Redis dump does not hand out live sessions; deleting the key revokes the
 * session at once (sign-out, or an operator with redis-cli). States are single-use (GETDEL) and
 * HMAC-signed so a forged or replayed `state` is refused before Redis is even asked.
 */
export class ConsoleSessions {
  private readonly stateKey: Buffer;

  /**
   * `freshness` re-validates each session's principal against its source at most every
   * SESSION_REVALIDATE_MS (docs/security.md, "Sessions"); the web process always passes it.
   */
  constructor(private readonly redis: Redis, private readonly prefix: string, signingSecret: Buffer, private readonly freshness?: SessionFreshness) {
    this.stateKey = createHmac('sha256', signingSecret).update('console-oauth-state').digest();
  }

  async create(input: Omit<ConsoleSession, 'csrfToken' | 'createdAt'>, now: Date): Promise<{ id: string; session: ConsoleSession }> {
    const id = randomBytes(32).toString('base64url');
    const session: ConsoleSession = { ...input, csrfToken: randomBytes(24).toString('base64url'), createdAt: now.toISOString(), checkedAtMs: now.getTime() };
    await this.redis.set(this.key(id), JSON.stringify(session), 'EX', SESSION_TTL_S);
    return { id, session };
  }

  /**
   * The session, its principal re-validated when older than the freshness window: narrowed to
   * what its source gives now, or ended (deleted; undefined) when the source gives nothing.
   */
  async get(id: string): Promise<ConsoleSession | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const raw = await this.redis.get(this.key(id));
    if (!raw) return undefined;
    const session = JSON.parse(raw) as ConsoleSession;
    const f = this.freshness;
    if (!f) return session;
    const now = f.nowMs();
    const checkedAt = session.checkedAtMs ?? Date.parse(session.createdAt);
    if (Math.abs(now - checkedAt) < Math.min(f.maxAgeMs ?? SESSION_REVALIDATE_MS, 60_000)) return session;
    const principal = await f.revalidate(session);
    if (!principal) {
      await this.revoke(id);
      return undefined;
    }
    const fresh: ConsoleSession = { ...session, principal, checkedAtMs: now };
    await this.redis.set(this.key(id), JSON.stringify(fresh), 'KEEPTTL');
    return fresh;
  }

  async revoke(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }

  /** A fresh `state` (letters and digits only: WeCom allows ≤128 of them) remembering where to go. */
  async createState(data: { corpId: string; next: string }): Promise<string> {
    const nonce = randomBytes(16).toString('hex');
    await this.redis.set(`${this.prefix}:console:state:${nonce}`, JSON.stringify(data), 'EX', STATE_TTL_S);
    return nonce + this.sign(nonce);
  }

  /** The state's data once; undefined when forged, expired or already used. */
  async consumeState(state: string): Promise<{ corpId: string; next: string } | undefined> {
    if (!/^[a-f0-9]{64}$/.test(state)) return undefined;
    const nonce = state.slice(0, 32);
    if (!timingSafeEqual(Buffer.from(state.slice(32)), Buffer.from(this.sign(nonce)))) return undefined;
    const raw = await this.redis.getdel(`${this.prefix}:console:state:${nonce}`);
    return raw ? (JSON.parse(raw) as { corpId: string; next: string }) : undefined;
  }

  private sign(nonce: string): string {
    return createHmac('sha256', this.stateKey).update(nonce).digest('hex').slice(0, 32);
  }

  private key(id: string): string {
    return `${this.prefix}:console:session:${createHash('sha256').update(id).digest('hex')}`;
  }
}

/** Constant-time comparison of the presented CSRF header with the session's token. */
export function csrfMatches(session: ConsoleSession, presented: string): boolean {
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
