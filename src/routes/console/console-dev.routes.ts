import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Context } from 'koa';
import { SESSION_COOKIE } from '../../domain/auth/console-session.js';
import { NotFoundError, UnauthorizedError } from '../../infra/errors.js';
import type { ConsoleDeps } from './console-deps.js';

const STANDIN = fileURLToPath(new URL('../../../scripts/wecom-sandbox/standin/jssdk-standin.js', import.meta.url));
const OPS = new Set(['register', 'chats', 'select', 'context', 'send']);

/**
 * `/console/dev/*` (docs/console.md, "Advisor sidebar"): the JS-SDK stand-in for a browser outside
 * the WeCom client, and its calls forwarded to the WeCom sandbox (`WECOM_API_BASE`) with the
 * signed-in member's corp and userid. Development and test only: in production every route here
 * answers 404, as if it did not exist.
 */
export function createConsoleDevRouter(deps: ConsoleDeps): Router {
  const router = new Router({ prefix: '/console/dev' });
  const refuseInProduction = () => {
    if (deps.config.isProduction) throw new NotFoundError('not found', 'not_found');
  };

  router.get('/jssdk-standin.js', function jssdkStandin(ctx) {
    refuseInProduction();
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    try {
      ctx.body = readFileSync(STANDIN);
    } catch {
      throw new NotFoundError(
        'the JS-SDK stand-in ships with the sources only: run the bot with npm run dev',
        'not_found',
      );
    }
  });

  async function forward(ctx: Context): Promise<void> {
    refuseInProduction();
    const op = ctx.params.op ?? '';
    if (!OPS.has(op)) throw new NotFoundError(`the stand-in has no call ${op}`, 'not_found');
    const id = ctx.cookies.get(SESSION_COOKIE);
    const session = id ? await deps.sessions.get(id) : undefined;
    const userid = session?.principal.userid;
    const corpId = session?.corpId;
    if (!session || !userid || !corpId)
      throw new UnauthorizedError(
        'sign in as a WeCom member first (the stand-in acts for the signed-in member)',
        'session_expired',
      );
    const target = new URL(`${deps.config.wecom.apiBase}/__sandbox/jssdk/${op}`);
    let body: string | undefined;
    if (ctx.method === 'GET') {
      target.searchParams.set('corpId', corpId);
      target.searchParams.set('userid', userid);
    } else {
      const raw = await readJson(ctx);
      body = JSON.stringify({ ...raw, corpId, userid });
    }
    const res = await fetch(target, {
      method: ctx.method,
      body,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      signal: AbortSignal.timeout(5000),
    });
    ctx.status = res.status;
    ctx.type = 'application/json';
    ctx.body = await res.text();
  }

  router.get('/jssdk/:op', forward);
  router.post('/jssdk/:op', forward);
  return router;
}

async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) ctx.throw(413, 'body too large');
    chunks.push(chunk);
  }
  try {
    const parsed: unknown = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return ctx.throw(400, 'the body is not valid JSON');
  }
}
