import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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
 * Console sessions in Redis (docs/console.md). Keys hold a SHA-256 of the cookie value, so a Redis dump
 * does not hand out live sessions; deleting the key revokes the session at once (sign-out, or an
 * operator with redis-cli). Sign-in states live in a signed cookie instead (oauth-state.ts), so
 * only a completed sign-in writes to Redis.
 */
export class ConsoleSessions {
  /**
   * `freshness` re-validates each session's principal against its source at most every
   * SESSION_REVALIDATE_MS (docs/security.md, "Sessions"); the web process always passes it.
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly freshness?: SessionFreshness,
  ) {}

  async create(
    input: Omit<ConsoleSession, 'csrfToken' | 'createdAt'>,
    now: Date,
  ): Promise<{ id: string; session: ConsoleSession }> {
    const id = randomBytes(32).toString('base64url');
    const session: ConsoleSession = {
      ...input,
      csrfToken: randomBytes(24).toString('base64url'),
      createdAt: now.toISOString(),
      checkedAtMs: now.getTime(),
    };
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
