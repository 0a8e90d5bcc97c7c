import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Types } from 'mongoose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalForMember, defaultConsoleRoles } from '../../domain/auth/console-roles.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { TaskModel } from '../../domain/tasks/task.model.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { safeNext } from './console-auth.routes.js';
import { BOOTSTRAP, CORP_A, CORP_B, CORP_OEM, startConsoleHarness } from './console.test-support.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startConsoleHarness>>;
const dir = mkdtempSync(join(tmpdir(), 'console-dist-'));
const HOUR = 3_600_000;

/** Signs `userid` of `corpId` in through login → (stubbed WeCom) → callback; returns the agent and its CSRF token. */
async function signIn(corpId: string, userid: string, next = '/console/m/tasks') {
  const agent = request.agent(h.app.callback());
  const login = await agent.get('/console/auth/login').query({ corpId, next }).expect(302);
  const target = new URL(login.headers.location ?? '');
  const cb = await agent
    .get('/console/auth/callback')
    .query({ code: `ok-${userid}`, state: target.searchParams.get('state') })
    .expect(302);
  const me = await agent.get('/console/auth/me').expect(200);
  return {
    agent,
    csrf: me.body.csrfToken as string,
    me: me.body,
    location: cb.headers.location,
    state: target.searchParams.get('state') ?? '',
    target,
  };
}

async function task(corpId: string, advisorUserid: string): Promise<string> {
  const customer = await CustomerModel.create({ corpId, externalUserId: `wm${new Types.ObjectId().toHexString()}` });
  const dueAt = new Date('2026-05-11T02:00:00Z');
  const doc = await TaskModel.create({
    corpId,
    customerId: customer._id,
    advisorUserid,
    title: '回访',
    dueAt,
    slaMs: 24 * HOUR,
    remindAt: dueAt,
    ladder: { escalateAfterMs: 48 * HOUR, flagAfterMs: 72 * HOUR },
    history: [{ at: dueAt, actor: 'system', action: 'created' }],
  });
  return String(doc._id);
}

beforeAll(async () => {
  db = await useTestDatabase('console-auth');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  h = await startConsoleHarness(dir);
  await AdvisorModel.create([
    { corpId: CORP_A, userid: 'wangqiang', name: '王强', departments: [2], leadsDepartments: [2] },
    { corpId: CORP_A, userid: 'zhangwei', departments: [2] },
    { corpId: CORP_A, userid: 'gone', departments: [2], status: 'left' },
  ]);
});
afterAll(async () => {
  await h.close();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('console sign-in', () => {
  it('redirects to WeCom QR sign-in with a signed state and the callback URL', async () => {
    const { target, location, me } = await signIn(CORP_A, 'zhangwei');
    expect(`${target.origin}${target.pathname}`).toBe('https://login.work.weixin.qq.com/wwlogin/sso/login');
    expect(target.searchParams.get('appid')).toBe(CORP_A);
    expect(target.searchParams.get('redirect_uri')).toBe(`${h.config.publicBaseUrl}/console/auth/callback`);
    expect(location).toBe('/console/m/tasks');
    expect(me).toMatchObject({ role: 'advisor', corps: [CORP_A], userid: 'zhangwei', via: 'wecom' });
  });

  it('uses the in-client OAuth page inside WeCom, and refuses unknown corps', async () => {
    const res = await request(h.app.callback())
      .get('/console/auth/login')
      .query({ corpId: CORP_A })
      .set('User-Agent', 'Mozilla/5.0 wxwork/4.1')
      .expect(302);
    expect(res.headers.location).toMatch(
      /^https:\/\/open\.weixin\.qq\.com\/connect\/oauth2\/authorize\?.*scope=snsapi_base.*#wechat_redirect$/,
    );
    const bad = await request(h.app.callback()).get('/console/auth/login').query({ corpId: 'nope' }).expect(302);
    expect(bad.headers.location).toBe('/console/login?error=unknown_corp');
  });

  it('sets an httpOnly SameSite=Lax cookie; a state is single-use and a forged one is refused', async () => {
    const agent = request.agent(h.app.callback());
    const login = await agent.get('/console/auth/login').query({ corpId: CORP_A }).expect(302);
    const state = new URL(login.headers.location ?? '').searchParams.get('state') ?? '';
    const cb = await agent.get('/console/auth/callback').query({ code: 'ok-zhangwei', state }).expect(302);
    expect(String(cb.headers['set-cookie'])).toMatch(
      /scrm_console=[^;]+; path=\/; expires=[^;]+; samesite=lax; httponly/,
    );
    const replay = await request(h.app.callback())
      .get('/console/auth/callback')
      .query({ code: 'ok-zhangwei', state })
      .expect(302);
    expect(replay.headers.location).toBe('/console/login?error=state');
    const forged = `${'0'.repeat(32)}${'1'.repeat(32)}`;
    expect(
      (await request(h.app.callback()).get('/console/auth/callback').query({ code: 'ok-x', state: forged })).headers
        .location,
    ).toBe('/console/login?error=state');
  });

  it('refuses non-members and members who left', async () => {
    for (const code of ['not-a-member', 'ok-gone']) {
      const agent = request.agent(h.app.callback());
      const login = await agent.get('/console/auth/login').query({ corpId: CORP_A }).expect(302);
      const cb = await agent
        .get('/console/auth/callback')
        .query({ code, state: new URL(login.headers.location ?? '').searchParams.get('state') })
        .expect(302);
      expect(cb.headers.location).toBe('/console/login?error=not_member');
      await agent.get('/console/auth/me').expect(401);
    }
  });

  it('maps roles: leaders are managers of their departments, configured userids, OEM members', async () => {
    expect((await signIn(CORP_A, 'wangqiang')).me).toMatchObject({
      role: 'manager',
      corps: [CORP_A],
      departments: [2],
    });
    expect((await signIn(CORP_A, 'boss')).me).toMatchObject({ role: 'dealer_admin', corps: [CORP_A] });
    expect((await signIn(CORP_A, 'mkt')).me).toMatchObject({ role: 'marketing', corps: [CORP_A] });
    expect((await signIn(CORP_OEM, 'oem.li')).me).toMatchObject({ role: 'oem', corps: '*' });
    expect(
      principalForMember({
        corpId: CORP_B,
        corpKind: 'dealer',
        userid: 'root',
        roles: { ...defaultConsoleRoles, admins: ['root'] },
        leadsDepartments: [1],
        sessionTag: 's',
      }),
    ).toMatchObject({ role: 'admin', corps: '*' });
  });

  it("regression: a member of the car maker's corp is oem or analyst only when listed; anyone else there is refused", async () => {
    expect((await signIn(CORP_OEM, 'ana.wu')).me).toMatchObject({ role: 'analyst', corps: '*' });
    const agent = request.agent(h.app.callback());
    const login = await agent.get('/console/auth/login').query({ corpId: CORP_OEM }).expect(302);
    const cb = await agent
      .get('/console/auth/callback')
      .query({ code: 'ok-intern.zhao', state: new URL(login.headers.location ?? '').searchParams.get('state') })
      .expect(302);
    expect(cb.headers.location).toBe('/console/login?error=no_role');
    await agent.get('/console/auth/me').expect(401);
    // Lists of the car maker's roles mean nothing in a dealer corp.
    expect(
      principalForMember({
        corpId: CORP_B,
        corpKind: 'dealer',
        userid: 'x',
        roles: { ...defaultConsoleRoles, oem: ['x'], analysts: ['x'] },
        leadsDepartments: [],
        sessionTag: 's',
      }),
    ).toMatchObject({ role: 'advisor', corps: [CORP_B] });
  });

  it('names the member and the corps they see, not raw ids (docs/console.md, "The header")', async () => {
    const names = new Map(h.corps.map((c) => [c.corpId, c.displayName]));
    Object.assign(h.corps.find((c) => c.corpId === CORP_A) ?? {}, { displayName: '北京四海' });
    Object.assign(h.corps.find((c) => c.corpId === CORP_B) ?? {}, { displayName: '上海五洲' });
    try {
      const manager = (await signIn(CORP_A, 'wangqiang')).me;
      expect(manager).toMatchObject({ userid: 'wangqiang', name: '王强', corpNames: { [CORP_A]: '北京四海' } });
      expect(Object.keys(manager.corpNames)).toEqual([CORP_A]);
      // No directory name yet: the userid stands in; a member unknown to the directory as well.
      expect((await signIn(CORP_A, 'zhangwei')).me).toMatchObject({ name: 'zhangwei' });
      expect((await signIn(CORP_B, 'newbie')).me).toMatchObject({
        name: 'newbie',
        corpNames: { [CORP_B]: '上海五洲' },
      });
      // '*' principals: every corp's name; a token without a userid carries no name.
      const admin = await request
        .agent(h.app.callback())
        .post('/console/auth/token')
        .send({ token: BOOTSTRAP })
        .expect(200);
      expect(admin.body.corpNames).toEqual({ [CORP_A]: '北京四海', [CORP_B]: '上海五洲', [CORP_OEM]: CORP_OEM });
      expect(admin.body).not.toHaveProperty('name');
    } finally {
      for (const c of h.corps) Object.assign(c, { displayName: names.get(c.corpId) ?? c.corpId });
    }
  });

  it('only redirects inside the console after sign-in', () => {
    expect(safeNext('/console/m/tasks/abc')).toBe('/console/m/tasks/abc');
    for (const bad of ['//evil.example', 'https://evil.example', '/console//evil.example', '/api/v1/tasks', undefined])
      expect(safeNext(bad)).toBe('/console/');
  });
});

describe('the API with a console session', () => {
  it('accepts the cookie for reads, refuses writes without the CSRF token, and scopes to the corp', async () => {
    const own = await task(CORP_A, 'zhangwei');
    const foreign = await task(CORP_B, 'zhangwei');
    const { agent, csrf } = await signIn(CORP_A, 'zhangwei');
    const list = await agent.get('/api/v1/tasks').expect(200);
    expect(list.body.tasks.map((t: { id: string }) => t.id)).toEqual([own]);
    await agent.get(`/api/v1/tasks/${foreign}`).expect(404);
    const refused = await agent.post(`/api/v1/tasks/${own}/snooze`).send({ days: 1 }).expect(403);
    expect(refused.body.error.code).toBe('csrf_failed');
    await agent.post(`/api/v1/tasks/${own}/snooze`).set('X-CSRF-Token', 'x'.repeat(32)).send({ days: 1 }).expect(403);
    await agent.post(`/api/v1/tasks/${foreign}/snooze`).set('X-CSRF-Token', csrf).send({ days: 1 }).expect(404);
    const done = await agent
      .post(`/api/v1/tasks/${own}/complete`)
      .set('X-CSRF-Token', csrf)
      .send({ outcome: 'contacted' })
      .expect(200);
    expect(done.body.status).toBe('done');
    const rules = await agent.get('/api/v1/rules').expect(403);
    expect(rules.body.error.code).toBe('role_forbidden');
  });

  it('signs out: the session is revoked server-side and the old cookie no longer works', async () => {
    const { agent, csrf } = await signIn(CORP_A, 'zhangwei');
    await agent.post('/console/auth/logout').expect(403);
    const cookie = (await agent.get('/console/auth/me')).request.cookies;
    await agent.post('/console/auth/logout').set('X-CSRF-Token', csrf).expect(204);
    await request(h.app.callback()).get('/api/v1/tasks').set('Cookie', cookie).expect(401);
  });

  it('signs in with an API token; unknown tokens are refused', async () => {
    const agent = request.agent(h.app.callback());
    await agent
      .post('/console/auth/token')
      .send({ token: 'x'.repeat(40) })
      .expect(401);
    const res = await agent.post('/console/auth/token').send({ token: BOOTSTRAP }).expect(200);
    expect(res.body).toMatchObject({ role: 'admin', corps: '*', via: 'token' });
    await agent.get('/api/v1/rules').expect(200);
    const { token } = await h.tokens.create({ role: 'dealer_admin', corps: [CORP_B] });
    const dealer = request.agent(h.app.callback());
    expect((await dealer.post('/console/auth/token').send({ token }).expect(200)).body).toMatchObject({
      role: 'dealer_admin',
      corps: [CORP_B],
    });
  });
});

describe('the console SPA', () => {
  it('serves index.html for client routes with a strict CSP, hashed assets for a year, and nothing outside', async () => {
    const app = h.app.callback();
    const page = await request(app).get('/console/m/tasks/abc').expect(200);
    expect(page.text).toContain('<div id="app">');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await request(app).get('/console/assets/index-abc123.js').expect(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    await request(app).get('/console/assets/..%2F..%2Fpackage.json').expect(404);
    await request(app).get('/console/assets/%E0').expect(404);
    expect((await request(app).get('/console')).headers.location).toBe('/console/');
  });
});
