import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Principal } from './principal.js';

/** The console's session cookie: an opaque random id, httpOnly, SameSite=Lax. */
export const SESSION_COOKIE = 'scrm_console';
export const SESSION_TTL_S = 12 * 3600;

export interface ConsoleSession {
  principal: Principal;
  csrfToken: string;
  /** How the person signed in, for the UI and the audit trail. */
  via: 'wecom' | 'token';
  corpId?: string;
  createdAt: string;
}

/**
 * Console sessions in Redis (issue 9). Keys hold a SHA-256 of the cookie value, so a Redis dump
 * does not hand out live sessions; deleting the key revokes the session at once (sign-out, or an
 * operator with redis-cli). Sign-in states live in a signed cookie instead (oauth-state.ts), so
 * only a completed sign-in writes to Redis.
 */
export class ConsoleSessions {
  constructor(private readonly redis: Redis, private readonly prefix: string, _signingSecret?: Buffer) {}

  async create(input: Omit<ConsoleSession, 'csrfToken' | 'createdAt'>, now: Date): Promise<{ id: string; session: ConsoleSession }> {
    const id = randomBytes(32).toString('base64url');
    const session: ConsoleSession = { ...input, csrfToken: randomBytes(24).toString('base64url'), createdAt: now.toISOString() };
    await this.redis.set(this.key(id), JSON.stringify(session), 'EX', SESSION_TTL_S);
    return { id, session };
  }

  async get(id: string): Promise<ConsoleSession | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as ConsoleSession) : undefined;
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
