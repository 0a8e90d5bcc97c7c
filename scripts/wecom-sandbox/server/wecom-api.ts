import type { Context } from 'koa';
import { ApiFault } from './api-fault.js';
import { multipartFile, multipartFilename, readBody } from './body.js';
import type { ApiRequest, ApiRoutes, SandboxContext } from './context.js';

const SECRET_PARAMS = new Set(['access_token', 'corpsecret']);

/**
 * The `/cgi-bin/*` pipeline, in WeCom's order: injected faults, token (41001/40014/42001),
 * per-corp per-API rate limit (45009), in-flight caps (45033/45035), simulated latency, handler.
 * Answers are HTTP 200 `{ errcode, errmsg, ... }`; every call lands in the call log.
 */
export function createWecomApi(sb: SandboxContext, routes: ApiRoutes, onHang: (release: () => void) => void) {
  return async function wecomApi(ctx: Context): Promise<void> {
    const started = Date.now();
    const endpoint = ctx.path.replace(/^\/cgi-bin\//, '');
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.query)) if (typeof v === 'string') query[k] = v;
    const loggedQuery = Object.fromEntries(Object.entries(query).filter(([k]) => !SECRET_PARAMS.has(k)));
    let body: unknown;
    let upload: ApiRequest['upload'];
    let corpId: string | undefined;
    let faultName: string | undefined;

    const finish = (status: number, payload: Record<string, unknown> | string) => {
      ctx.status = status;
      ctx.body = payload;
      const errcode = typeof payload === 'object' && typeof payload.errcode === 'number' ? payload.errcode : undefined;
      sb.calls.add({
        at: new Date(sb.clock.nowMs()).toISOString(),
        atMs: sb.clock.nowMs(),
        endpoint,
        method: ctx.method,
        corpId,
        query: loggedQuery,
        body: endpoint === 'gettoken' ? undefined : body,
        errcode,
        httpStatus: status,
        fault: faultName,
        durationMs: Date.now() - started,
      });
      sb.logger.debug({ endpoint, corpId, errcode, status }, 'sandbox call');
    };

    const route = routes[endpoint];
    if (!route && endpoint !== 'gettoken')
      return finish(404, { errcode: 404, errmsg: `sandbox does not implement ${endpoint}` });

    if (ctx.method === 'POST') {
      const raw = await readBody(ctx.req, 20 * 1024 * 1024);
      if ((ctx.get('content-type') || '').startsWith('multipart/form-data')) {
        const file = multipartFile(raw);
        upload = {
          bytes: raw.length,
          filename: multipartFilename(raw),
          ...(file ? { data: file.data, contentType: file.contentType } : {}),
        };
      } else if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          return finish(200, { errcode: 47001, errmsg: 'data format error, Warning: wrong json format.' });
        }
      }
    } else if (route?.method === 'POST') {
      return finish(200, { errcode: 40035, errmsg: 'invalid parameter: use POST' });
    }

    // Token (gettoken itself takes corpid + corpsecret).
    if (endpoint !== 'gettoken') {
      const check = sb.tokens.check(query.access_token);
      if (check.ok) corpId = check.corpId;
    } else {
      corpId = query.corpid;
    }

    const fault = sb.faults.take(endpoint, corpId);
    if (fault) {
      faultName = fault.kind;
      if (fault.kind === 'hang') {
        await new Promise<void>((resolve) => {
          ctx.res.once('close', () => resolve());
          onHang(resolve);
        });
        return finish(504, 'hung');
      }
      if (fault.kind === 'http') return finish(fault.status ?? 503, `sandbox fault: HTTP ${fault.status ?? 503}`);
      if (fault.kind === 'errcode')
        return finish(200, { errcode: fault.errcode ?? -1, errmsg: fault.errmsg ?? 'system busy (sandbox fault)' });
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 0));
    }

    if (endpoint !== 'gettoken') {
      const check = sb.tokens.check(query.access_token);
      if (!check.ok) {
        const msg = { 41001: 'access_token missing', 40014: 'invalid access_token', 42001: 'access_token expired' }[
          check.errcode
        ];
        return finish(200, { errcode: check.errcode, errmsg: msg });
      }
    }
    if (endpoint === 'gettoken') {
      const result = getToken(sb, query);
      return finish(200, 'errcode' in result ? result : { errcode: 0, errmsg: 'ok', ...result });
    }
    const corp = corpId ? sb.world.corp(corpId) : undefined;
    if (!route) return finish(404, { errcode: 404, errmsg: 'not found' });
    if (!corp) return finish(200, { errcode: 40014, errmsg: 'invalid access_token (corp no longer exists)' });

    if (!sb.limits.allow(corp.corpId, endpoint)) {
      return finish(200, { errcode: 45009, errmsg: 'api freq out of limit' });
    }

    const held: string[] = [];
    try {
      const req = { corp, query, body, upload, sb };
      if (route.inflight) {
        for (const cap of route.inflight(req)) {
          const n = sb.limits.enter(cap.key);
          held.push(cap.key);
          if (n > cap.limit) return finish(200, { errcode: cap.errcode, errmsg: cap.errmsg });
        }
      }
      const latency = sb.limits.config.latencyMs[endpoint];
      if (latency) await new Promise((resolve) => setTimeout(resolve, latency));
      const result = await route.handler(req);
      return finish(200, { errcode: 0, errmsg: 'ok', ...(result ?? {}) });
    } catch (err) {
      if (err instanceof ApiFault) return finish(200, { errcode: err.errcode, errmsg: err.errmsg });
      sb.logger.error({ endpoint, err: err instanceof Error ? err.message : String(err) }, 'sandbox handler crashed');
      return finish(200, { errcode: -1, errmsg: 'system error (sandbox bug)' });
    } finally {
      for (const key of held) sb.limits.leave(key);
    }
  };
}

/** `GET /cgi-bin/gettoken?corpid=&corpsecret=` (docs/wecom.md §3.1). */
function getToken(
  sb: SandboxContext,
  query: Record<string, string>,
): { errcode: number; errmsg: string } | { access_token: string; expires_in: number } {
  const corp = query.corpid ? sb.world.corp(query.corpid) : undefined;
  if (!corp) return { errcode: 40013, errmsg: 'invalid corpid' };
  if (query.corpsecret !== corp.secret) return { errcode: 40001, errmsg: 'invalid credential' };
  const { token, expiresIn } = sb.tokens.issue(corp.corpId);
  return { access_token: token, expires_in: expiresIn };
}
