import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Principal } from '../domain/auth/principal.js';
import { UnauthorizedError } from './errors.js';

/** Resolves a presented bearer token (TokenService.resolve). */
export type TokenResolver = (token: string) => Promise<Principal | undefined>;

export const BOOTSTRAP_TOKEN_ID = 'bootstrap';

/**
 * `Authorization: Bearer <token>` → `ctx.state.principal` (design §5). API tokens resolve through
 * their stored hash; the BOOTSTRAP_API_TOKEN (if configured) stays valid as an `admin` principal,
 * compared in constant time over digests. Anything else is a 401 that says what to send.
 */
export function createAuth(opts: { resolve: TokenResolver; bootstrapToken: string | undefined }) {
  const bootstrap = opts.bootstrapToken ? digest(opts.bootstrapToken) : undefined;
  return async function auth(ctx: Context, next: Next): Promise<void> {
    const token = bearerToken(ctx.get('Authorization'));
    if (!token) {
      ctx.set('WWW-Authenticate', 'Bearer realm="scrm-api"');
      throw new UnauthorizedError('send Authorization: Bearer <API token> (create one with npm run token -- create)');
    }
    let principal: Principal | undefined;
    if (bootstrap && timingSafeEqual(digest(token), bootstrap)) principal = { role: 'admin', corps: '*', tokenId: BOOTSTRAP_TOKEN_ID };
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

function bearerToken(header: string): string | undefined {
  const [scheme, value] = header.split(' ', 2);
  return scheme?.toLowerCase() === 'bearer' && value ? value.trim() : undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
