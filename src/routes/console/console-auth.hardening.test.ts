import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedisUrl } from '../../testing/env.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { BOOTSTRAP, CORP_A, startConsoleHarness } from './console.test-support.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startConsoleHarness>>;
let redis: Redis;

async function keysOf(pattern: string): Promise<string[]> {
  return redis.keys(`${h.config.redis.queuePrefix}:${pattern}`);
}

beforeAll(async () => {
  db = await useTestDatabase('console-auth-hardening');
  h = await startConsoleHarness(undefined, { PUBLIC_RATE_LIMIT_PER_MINUTE: '25', AUTH_FAILURES_PER_MINUTE: '3' });
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await h.close();
  redis.disconnect();
  await db.drop();
});

describe('console sign-in state', () => {
  it('lives in a signed, short-lived, HttpOnly, SameSite cookie scoped to /console/auth, not in Redis', async () => {
    const res = await request(h.app.callback())
      .get('/console/auth/login')
      .set('X-Forwarded-For', '198.51.100.1')
      .query({ corpId: CORP_A })
      .expect(302);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(
      /scrm_oauth=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; path=\/console\/auth; expires=[^;]+; samesite=lax; httponly/,
    );
    expect(await keysOf('console:state:*')).toEqual([]);
  });

  it('refuses a callback whose state was issued to another browser (login CSRF)', async () => {
    const attacker = request.agent(h.app.callback());
    const login = await attacker.get('/console/auth/login').query({ corpId: CORP_A }).expect(302);
    const state = new URL(login.headers.location ?? '').searchParams.get('state');
    // The victim opens the attacker's callback URL: their browser has no matching state cookie.
    const victim = request.agent(h.app.callback());
    const cb = await victim.get('/console/auth/callback').query({ code: 'ok-zhangwei', state }).expect(302);
    expect(cb.headers.location).toBe('/console/login?error=state');
    await victim.get('/console/auth/me').expect(401);
    // Nor does the state of one sign-in fit the cookie of another in the same browser.
    const other = await victim.get('/console/auth/login').query({ corpId: CORP_A }).expect(302);
    expect(new URL(other.headers.location ?? '').searchParams.get('state')).not.toBe(state);
    expect(
      (await victim.get('/console/auth/callback').query({ code: 'ok-zhangwei', state }).expect(302)).headers.location,
    ).toBe('/console/login?error=state');
  });

  it('uses a state once: the callback clears the cookie', async () => {
    const agent = request.agent(h.app.callback());
    const login = await agent.get('/console/auth/login').query({ corpId: CORP_A }).expect(302);
    const state = new URL(login.headers.location ?? '').searchParams.get('state');
    const first = await agent.get('/console/auth/callback').query({ code: 'ok-zhangwei', state }).expect(302);
    expect(String(first.headers['set-cookie'])).toMatch(/scrm_oauth=; path=\/console\/auth; expires=Thu, 01 Jan 1970/);
    expect(
      (await agent.get('/console/auth/callback').query({ code: 'ok-zhangwei', state }).expect(302)).headers.location,
    ).toBe('/console/login?error=state');
  });
});

describe('rate limits on the sign-in routes', () => {
  it('limits unauthenticated requests per client IP with 429 and Retry-After, keys expiring', async () => {
    // TRUST_PROXY is 0: X-Forwarded-For does not pick the bucket, so rotating it does not help.
    const app = h.app.callback();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1)
      statuses.push((await request(app).get('/console/auth/corps').set('X-Forwarded-For', `203.0.113.${i}`)).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    const limited = await request(app).get('/console/auth/login').query({ corpId: CORP_A }).expect(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const keys = await keysOf('ratelimit:ip:console-auth:*');
    expect(keys).toHaveLength(1);
    expect(await redis.pttl(keys[0] ?? '')).toBeGreaterThan(0);
  });
});

describe('authentication failures', () => {
  it('lock a client IP out after AUTH_FAILURES_PER_MINUTE refused tokens, even for a right token', async () => {
    const h2 = await startConsoleHarness(undefined, { AUTH_FAILURES_PER_MINUTE: '3' });
    const app = h2.app.callback();
    try {
      for (let i = 0; i < 3; i += 1)
        await request(app)
          .get('/api/v1/rules')
          .set('Authorization', `Bearer ${'x'.repeat(40)}`)
          .expect(401);
      const locked = await request(app).get('/api/v1/rules').set('Authorization', `Bearer ${BOOTSTRAP}`).expect(429);
      expect(locked.body.error.code).toBe('rate_limited');
      await request(app).post('/console/auth/token').send({ token: BOOTSTRAP }).expect(429);
    } finally {
      await h2.close();
    }
  });

  it('count bad session cookies and sign-in tokens, but not requests without credentials', async () => {
    const h3 = await startConsoleHarness(undefined, { AUTH_FAILURES_PER_MINUTE: '3' });
    const app = h3.app.callback();
    try {
      for (let i = 0; i < 5; i += 1) await request(app).get('/console/auth/me').expect(401);
      await request(app)
        .get('/api/v1/tasks')
        .set('Cookie', `scrm_console=${'a'.repeat(43)}`)
        .expect(401);
      await request(app)
        .post('/console/auth/token')
        .send({ token: 'y'.repeat(40) })
        .expect(401);
      await request(app)
        .get('/console/auth/me')
        .set('Cookie', `scrm_console=${'b'.repeat(43)}`)
        .expect(401);
      await request(app).post('/console/auth/token').send({ token: BOOTSTRAP }).expect(429);
    } finally {
      await h3.close();
    }
  });
});
