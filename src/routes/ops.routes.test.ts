import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleSessions, SESSION_COOKIE } from '../domain/auth/console-session.js';
import type { Principal } from '../domain/auth/principal.js';
import { testRedisUrl, uniqueName } from '../testing/env.js';
import { createQueueDashboard } from './ops.routes.js';

const ORIGIN = 'https://scrm.example.test';
const TOKEN = 'd'.repeat(40);
let redis: Redis;
let queue: Queue;
let sessions: ConsoleSessions;

function dashboard(mode: 'read-only' | 'operate') {
  const app = new Koa();
  app.use(createQueueDashboard({ queues: [queue], sessions, mode, publicBaseUrl: ORIGIN }));
  return app.callback();
}

async function cookieFor(principal: Principal): Promise<string> {
  const { id } = await sessions.create({ principal, via: 'token' }, new Date());
  return `${SESSION_COOKIE}=${id}`;
}

const admin: Principal = { role: 'admin', corps: '*', tokenId: 't-admin' };
const dealerAdmin: Principal = { role: 'dealer_admin', corps: ['wwdealer0001'], tokenId: 't-dealer' };

beforeAll(() => {
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const prefix = uniqueName('dash');
  queue = new Queue('wecom-alerts', { connection: redis as unknown as ConnectionOptions, prefix });
  sessions = new ConsoleSessions(redis, prefix);
});
beforeEach(async () => {
  await queue.obliterate({ force: true });
});
afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  redis.disconnect();
});

describe('the queue dashboard (/admin/queues)', () => {
  it('no longer opens with a static token as the Basic-auth password or a bearer token', async () => {
    const app = dashboard('read-only');
    const basic = Buffer.from(`admin:${TOKEN}`).toString('base64');
    const res = await request(app).get('/admin/queues/api/queues').set('Authorization', `Basic ${basic}`).expect(401);
    expect(res.body.error.message).toContain('/console/login');
    expect(res.headers['www-authenticate']).toBeUndefined();
    await request(app).get('/admin/queues/api/queues').set('Authorization', `Bearer ${TOKEN}`).expect(401);
  });

  it('serves console admins and refuses other roles', async () => {
    const app = dashboard('read-only');
    const ok = await request(app)
      .get('/admin/queues/api/queues')
      .set('Cookie', await cookieFor(admin))
      .expect(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(JSON.stringify(ok.body)).toContain('wecom-alerts');
    const refused = await request(app)
      .get('/admin/queues/api/queues')
      .set('Cookie', await cookieFor(dealerAdmin))
      .expect(403);
    expect(refused.body.error.code).toBe('role_forbidden');
  });

  it('is read-only by default: adding, retrying and form posts change nothing', async () => {
    const app = dashboard('read-only');
    const cookie = await cookieFor(admin);
    const add = await request(app)
      .post('/admin/queues/api/queues/wecom-alerts/add')
      .set('Cookie', cookie)
      .set('Origin', ORIGIN)
      .send({ name: 'alert.send', data: { touser: '@all' } })
      .expect(403);
    expect(add.body.error.code).toBe('dashboard_read_only');
    await request(app)
      .put('/admin/queues/api/queues/wecom-alerts/retry/failed')
      .set('Cookie', cookie)
      .set('Origin', ORIGIN)
      .send({})
      .expect(403);
    await request(app)
      .post('/admin/queues/api/queues/wecom-alerts/add')
      .set('Cookie', cookie)
      .set('Origin', ORIGIN)
      .type('form')
      .send('name=alert.send&data=%7B%7D')
      .expect(415);
    expect(await queue.count()).toBe(0);
  });

  it('in operate mode allows retry and clean from the console origin only, and never adds jobs', async () => {
    const app = dashboard('operate');
    const cookie = await cookieFor(admin);
    const crossSite = await request(app)
      .put('/admin/queues/api/queues/wecom-alerts/clean/failed')
      .set('Cookie', cookie)
      .set('Origin', 'https://evil.example')
      .send({})
      .expect(403);
    expect(crossSite.body.error.code).toBe('csrf_failed');
    await request(app)
      .put('/admin/queues/api/queues/wecom-alerts/clean/failed')
      .set('Cookie', cookie)
      .send({})
      .expect(403);
    await request(app)
      .put('/admin/queues/api/queues/wecom-alerts/clean/failed')
      .set('Cookie', cookie)
      .set('Origin', ORIGIN)
      .send({})
      .expect(200);
    const add = await request(app)
      .post('/admin/queues/api/queues/wecom-alerts/add')
      .set('Cookie', cookie)
      .set('Origin', ORIGIN)
      .send({ name: 'alert.send', data: { touser: '@all' } })
      .expect(403);
    expect(add.body.error.code).toBe('dashboard_action_forbidden');
    await request(app)
      .put('/admin/queues/api/queues/wecom-alerts/obliterate')
      .set('Cookie', cookie)
      .set('Origin', ORIGIN)
      .send({})
      .expect(403);
    expect(await queue.count()).toBe(0);
  });

  it('leaves other paths to the next middleware', async () => {
    const app = new Koa();
    app.use(createQueueDashboard({ queues: [queue], sessions, mode: 'read-only', publicBaseUrl: ORIGIN }));
    app.use((ctx) => {
      ctx.body = 'next';
    });
    expect((await request(app.callback()).get('/admin/queuesX').expect(200)).text).toBe('next');
  });
});
