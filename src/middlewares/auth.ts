import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { csrfMatches, SESSION_COOKIE, type ConsoleSessions } from '../domain/auth/console-session.js';
import type { Principal } from '../domain/auth/principal.js';
import { ForbiddenError, UnauthorizedError } from '../infra/errors.js';

/** Resolves a presented bearer token (TokenService.resolve). */
export type TokenResolver = (token: string) => Promise<Principal | undefined>;

export const BOOTSTRAP_TOKEN_ID = 'bootstrap';

/**
 * `Authorization: Bearer <token>` → `ctx.state.principal` (docs/architecture.md §5). API tokens resolve through
 * their stored hash; the BOOTSTRAP_API_TOKEN (if configured) stays valid as an `admin` principal,
 * compared in constant time over digests. Anything else is a 401 that says what to send.
 * Without a bearer token, a console session cookie (docs/console.md) is accepted when `sessions` is
 * given; since browsers send cookies by themselves, state-changing methods must then also carry
 * `X-CSRF-Token` equal to the session's token (403 otherwise).
 */
export function createAuth(opts: {
  resolve: TokenResolver;
  bootstrapToken: string | undefined;
  sessions?: ConsoleSessions;
}) {
  const bootstrap = opts.bootstrapToken ? digest(opts.bootstrapToken) : undefined;
  return async function auth(ctx: Context, next: Next): Promise<void> {
    const token = bearerToken(ctx.get('Authorization'));
    const sessionId = !token && opts.sessions ? ctx.cookies.get(SESSION_COOKIE) : undefined;
    if (sessionId && opts.sessions) {
      const session = await opts.sessions.get(sessionId);
      if (!session) throw new UnauthorizedError('your console session has ended; sign in again', 'session_expired');
      if (!SAFE_METHODS.has(ctx.method) && !csrfMatches(session, ctx.get('X-CSRF-Token')))
        throw new ForbiddenError('send the X-CSRF-Token header of your session (GET /console/auth/me)', 'csrf_failed');
      ctx.state.principal = session.principal;
      await next();
      return;
    }
    if (!token) {
      ctx.set('WWW-Authenticate', 'Bearer realm="scrm-api"');
      throw new UnauthorizedError('send Authorization: Bearer <API token> (create one with npm run token -- create)');
    }
    let principal: Principal | undefined;
    if (bootstrap && timingSafeEqual(digest(token), bootstrap))
      principal = { role: 'admin', corps: '*', tokenId: BOOTSTRAP_TOKEN_ID };
    else principal = await opts.resolve(token);
    if (!principal) {
      ctx.set('WWW-Authenticate', 'Bearer realm="scrm-api", error="invalid_token"');
      throw new UnauthorizedError('the API token is unknown or revoked', 'invalid_token');
    }
    ctx.state.principal = principal;
    await next();
  };
}

/** The authenticated principal; throws when a route forgot to mount `auth` (a programming error). */
export function principalOf(ctx: Context): Principal {
  const p = ctx.state.principal as Principal | undefined;
  if (!p) throw new UnauthorizedError();
  return p;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function bearerToken(header: string): string | undefined {
  const [scheme, value] = header.split(' ', 2);
  return scheme?.toLowerCase() === 'bearer' && value ? value.trim() : undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
