import Router from '@koa/router';
import type { Context } from 'koa';
import { OAUTH_CODE_TTL_MS } from '../api/directory.js';
import type { SandboxContext } from '../server/context.js';
import { newOpaque } from '../world/ids.js';
import { findMember } from '../world/world.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Web sign-in (docs/wecom.md §8): `/connect/oauth2/authorize` (inside the WeCom client) and
 * `/wwlogin/sso/login` (desktop QR). The sandbox shows a small page where you pick which member
 * you are, then redirects to `redirect_uri?code=&state=` with a single-use 5-minute code.
 * `&userid=` skips the page (automated tests).
 */
export function oauthRouter(sb: SandboxContext): Router {
  const router = new Router();

  const page = (ctx: Context) => {
    const q = ctx.query;
    const appid = typeof q.appid === 'string' ? q.appid : '';
    const redirect = typeof q.redirect_uri === 'string' ? q.redirect_uri : '';
    const state = typeof q.state === 'string' ? q.state : '';
    const corp = sb.world.corp(appid);
    if (!corp) return fail(ctx, 'appid参数错误 (unknown corp)');
    if (!/^https?:\/\//.test(redirect)) return fail(ctx, 'redirect_uri参数错误');
    if (state.length > 128 || !/^[A-Za-z0-9]*$/.test(state))
      return fail(ctx, 'state参数错误 (≤128 letters and digits)');
    const chosen = typeof q.userid === 'string' ? q.userid : undefined;
    if (chosen) {
      const member = findMember(corp, chosen);
      if (!member || !member.visible) return fail(ctx, '你不在该应用的可见范围内 (60011)');
      const code = newOpaque('oc', 32);
      corp.oauthCodes.push({ code, userid: member.userid, issuedAtMs: sb.clock.nowMs(), used: false });
      const target = new URL(redirect);
      target.searchParams.set('code', code);
      target.searchParams.set('state', state);
      ctx.redirect(target.toString());
      return;
    }
    const links = corp.members
      .filter((m) => m.visible && m.status === 1)
      .map((m) => {
        const url = new URL(ctx.href);
        url.searchParams.set('userid', m.userid);
        return `<li><a href="${esc(url.pathname + url.search)}">${esc(m.name)} <small>(${esc(m.userid)})</small></a></li>`;
      })
      .join('');
    ctx.type = 'html';
    ctx.body = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>企业微信登录 (sandbox)</title></head>
<body style="font-family:sans-serif;max-width:30em;margin:2em auto"><h1>${esc(corp.name)}</h1><p>WeCom sandbox sign-in: pick who you are. The code is valid ${OAUTH_CODE_TTL_MS / 60000} minutes, once.</p><ul>${links}</ul></body></html>`;
  };

  router.get('/connect/oauth2/authorize', page);
  router.get('/wwlogin/sso/login', page);
  return router;
}

function fail(ctx: Context, message: string): void {
  ctx.status = 400;
  ctx.type = 'html';
  ctx.body = `<!doctype html><meta charset="utf-8"><p>${esc(message)}</p>`;
}
