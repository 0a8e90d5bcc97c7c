import { createHash, timingSafeEqual } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { principalForMember, defaultConsoleRoles } from '../../domain/auth/console-roles.js';
import { SESSION_COOKIE, SESSION_TTL_S, csrfMatches, type ConsoleSession } from '../../domain/auth/console-session.js';
import type { Principal } from '../../domain/auth/principal.js';
import { SignInStates, STATE_COOKIE, STATE_COOKIE_PATH, STATE_TTL_S } from '../../domain/auth/oauth-state.js';
import { advisorName, advisorStanding } from '../../domain/customers/advisor-queries.js';
import { BOOTSTRAP_TOKEN_ID } from '../../middlewares/auth.js';
import { ForbiddenError, UnauthorizedError } from '../../infra/errors.js';
import { createAuthFailureLimit, createClientRateLimit } from '../../middlewares/rate-limit.js';
import { parseOrThrow } from '../../infra/validation.js';
import type { ConsoleDeps } from './console-deps.js';

const loginQuery = z.object({
  corpId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  next: z.string().max(512).optional(),
  mode: z.enum(['qr', 'oauth']).optional(),
});
const tokenBody = z.object({ token: z.string().min(16).max(256) }).strict();

/** Only paths inside the console: `next` must never become an open redirect. */
export function safeNext(next: string | undefined): string {
  return next && /^\/console\/[A-Za-z0-9/_?=&.%-]*$/.test(next) && !next.includes('//') ? next : '/console/';
}

/**
 * `/console/auth/*` (docs/console.md): WeCom web sign-in, API-token sign-in, sign-out and `me`.
 * Exchanging the sign-in code (`auth/getuserinfo`) is the one WeCom call the web process makes
 * itself instead of leaving it to the worker: the person is waiting on the redirect, the code
 * lives five minutes and is single-use, so a queued job would only add latency and failure modes.
 */
export function createConsoleAuthRouter(deps: ConsoleDeps): Router {
  const router = new Router({ prefix: '/console/auth' });
  const { config, sessions } = deps;
  const secure = config.publicBaseUrl.startsWith('https:');
  const bootstrap = config.bootstrapApiToken ? digest(config.bootstrapApiToken) : undefined;
  const failTo = (ctx: Context, error: string) => ctx.redirect(`/console/login?error=${error}`);

  async function startSession(
    ctx: Context,
    principal: Principal,
    via: ConsoleSession['via'],
    corpId?: string,
  ): Promise<ConsoleSession> {
    const { id, session } = await sessions.create({ principal, via, corpId }, deps.clock.now());
    ctx.cookies.secure = ctx.cookies.secure || secure; // behind a TLS-terminating proxy without X-Forwarded-Proto
    ctx.cookies.set(SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'lax',
      secure,
      path: '/',
      maxAge: SESSION_TTL_S * 1000,
      overwrite: true,
    });
    return session;
  }

  // Nobody is signed in yet on these routes: limit each client IP (docs/security.md, "Rate limits").
  const limits = { redis: deps.redis, prefix: config.redis.queuePrefix, nowMs: () => deps.clock.nowMs() };
  router.use(createClientRateLimit({ ...limits, bucket: 'console-auth', limit: config.api.publicRateLimitPerMinute }));
  router.use(
    createAuthFailureLimit({
      ...limits,
      bucket: 'auth-failures',
      limit: config.api.authFailuresPerMinute,
      hasCredential: (ctx) => ctx.path === '/console/auth/token' || Boolean(ctx.cookies.get(SESSION_COOKIE)),
    }),
  );
  const states = new SignInStates(config.lookupHmacKey, () => deps.clock.nowMs());
  const stateCookie = { httpOnly: true, sameSite: 'lax', secure, path: STATE_COOKIE_PATH, overwrite: true } as const;

  router.get('/corps', function signInCorps(ctx) {
    // Only what the sign-in page shows; the WeCom pages reveal the corp id anyway.
    ctx.body = {
      corps: deps
        .corps()
        .filter((c) => c.enabled)
        .map((c) => ({ corpId: c.corpId, displayName: c.displayName, kind: c.kind })),
    };
  });

  router.get('/login', async function login(ctx) {
    const q = loginQuery.safeParse(ctx.query);
    const corp = q.success ? deps.corp(q.data.corpId) : undefined;
    if (!q.success || !corp || !corp.enabled) return failTo(ctx, 'unknown_corp');
    const { state, cookie } = states.begin({ corpId: corp.corpId, next: safeNext(q.data.next) });
    ctx.cookies.secure = ctx.cookies.secure || secure;
    ctx.cookies.set(STATE_COOKIE, cookie, { ...stateCookie, maxAge: STATE_TTL_S * 1000 });
    const redirectUri = `${config.publicBaseUrl}/console/auth/callback`;
    const inWecom = /wxwork/i.test(ctx.get('User-Agent'));
    const mode = q.data.mode ?? (inWecom ? 'oauth' : 'qr');
    const target =
      mode === 'oauth'
        ? new URL(`${config.wecom.oauthBase}/connect/oauth2/authorize`)
        : new URL(`${config.wecom.qrLoginBase}/wwlogin/sso/login`);
    if (mode === 'qr') target.searchParams.set('login_type', 'CorpApp');
    target.searchParams.set('appid', corp.corpId);
    target.searchParams.set('agentid', String(corp.agentId));
    target.searchParams.set('redirect_uri', redirectUri);
    if (mode === 'oauth') {
      target.searchParams.set('response_type', 'code');
      target.searchParams.set('scope', 'snsapi_base');
    }
    target.searchParams.set('state', state);
    if (mode === 'oauth') target.hash = 'wechat_redirect';
    ctx.redirect(target.toString());
  });

  router.get('/callback', async function callback(ctx) {
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    // Only the browser that started this sign-in holds the matching cookie; it is used once.
    const state = states.finish(
      typeof ctx.query.state === 'string' ? ctx.query.state : '',
      ctx.cookies.get(STATE_COOKIE),
    );
    ctx.cookies.set(STATE_COOKIE, '', { ...stateCookie, maxAge: 0 });
    if (!state) return failTo(ctx, 'state');
    const corp = deps.corp(state.corpId);
    if (!corp || !corp.enabled || !code) return failTo(ctx, 'unknown_corp');
    const userid = await deps.exchangeCode(corp, code).catch(() => undefined);
    if (!userid) return failTo(ctx, 'not_member');
    // Fail closed while MongoDB is down: a member who left must not slip in as a plain advisor.
    const found = await advisorStanding(corp.corpId, userid).then(
      (a) => ({ a }),
      () => undefined,
    );
    if (!found) return failTo(ctx, 'unavailable');
    const advisor = found.a;
    if (advisor && advisor.status !== 'active') return failTo(ctx, 'not_member');
    const principal = principalForMember({
      corpId: corp.corpId,
      corpKind: corp.kind,
      userid,
      roles: corp.consoleRoles ?? defaultConsoleRoles,
      leadsDepartments: advisor?.leadsDepartments ?? [],
      sessionTag: `console:${corp.corpId}:${userid}`,
    });
    // The car maker's corp lets in only the members its console roles list.
    if (!principal) return failTo(ctx, 'no_role');
    await startSession(ctx, principal, 'wecom', corp.corpId);
    ctx.redirect(state.next);
  });

  router.post('/token', bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }), async function tokenSignIn(ctx) {
    const { token } = parseOrThrow(tokenBody, (ctx.request as unknown as { body?: unknown }).body ?? {});
    const principal: Principal | undefined =
      bootstrap && timingSafeEqual(digest(token), bootstrap)
        ? { role: 'admin', corps: '*', tokenId: BOOTSTRAP_TOKEN_ID }
        : await deps.resolveToken(token);
    if (!principal) throw new UnauthorizedError('the API token is unknown or revoked', 'invalid_token');
    const session = await startSession(ctx, principal, 'token');
    ctx.body = present(session, await namesFor(session));
  });

  router.post('/logout', async function logout(ctx) {
    const id = ctx.cookies.get(SESSION_COOKIE);
    const session = id ? await sessions.get(id) : undefined;
    if (id && session) {
      if (!csrfMatches(session, ctx.get('X-CSRF-Token')))
        throw new ForbiddenError('send the X-CSRF-Token header of your session', 'csrf_failed');
      await sessions.revoke(id);
    }
    ctx.cookies.set(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', path: '/', maxAge: 0, overwrite: true });
    ctx.status = 204;
  });

  router.get('/me', async function me(ctx) {
    const id = ctx.cookies.get(SESSION_COOKIE);
    const session = id ? await sessions.get(id) : undefined;
    if (!session) throw new UnauthorizedError('not signed in', 'session_expired');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = present(session, await namesFor(session));
  });

  /**
   * What the header and corp pickers print instead of raw ids (docs/console.md, "The header"): the
   * member's own directory name (the userid when the directory has none, or MongoDB is down) and the
   * display names of the corps the principal sees. Nothing about anyone else.
   */
  async function namesFor(s: ConsoleSession): Promise<Names> {
    const p = s.principal;
    const visible =
      p.corps === '*' ? deps.corps() : p.corps.map((id) => deps.corp(id) ?? { corpId: id, displayName: id });
    const corpNames = Object.fromEntries(visible.map((c) => [c.corpId, c.displayName || c.corpId]));
    if (!p.userid) return { corpNames };
    const corpId = s.corpId ?? (Array.isArray(p.corps) && p.corps.length === 1 ? p.corps[0] : undefined);
    const name = corpId ? await advisorName(corpId, p.userid).catch(() => undefined) : undefined;
    return { name: name || p.userid, corpNames };
  }

  return router;
}

/** `name`: the member's display name (absent without a userid); `corpNames`: corp id → display name. */
interface Names {
  name?: string;
  corpNames?: Record<string, string>;
}

/** What the browser learns about its session (never the cookie value). */
function present(s: ConsoleSession, names: Names) {
  const p = s.principal;
  return {
    role: p.role,
    corps: p.corps,
    userid: p.userid,
    departments: p.departments,
    via: s.via,
    corpId: s.corpId,
    csrfToken: s.csrfToken,
    ...names,
  };
}

export type ConsoleMe = ReturnType<typeof present>;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
