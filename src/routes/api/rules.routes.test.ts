import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { RuleModel, RuleVersionModel } from '../../domain/rules/rule.model.js';
import { VehicleModel } from '../../domain/vehicles/vehicle.model.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { BOOTSTRAP, CORP_A, CORP_B, startApiHarness } from './api.test-support.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startApiHarness>>;
let marketingA: string;
let marketingB: string;
let oem: string;
let advisorA: string;

const delivery = (scope: string, enabled?: boolean) => ({
  name: '交车欢迎', scope, ...(enabled === undefined ? {} : { enabled }),
  trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
  actions: [{ type: 'welcome', text: '欢迎成为车主' }, { type: 'tag', add: [{ group: '客户阶段', name: '保客' }] }],
});
const firstService = (scope: string) => ({
  name: '首保邀约', scope,
  trigger: { type: 'date', field: 'deliveryDate', offset: '+150d at 10:00' },
  conditions: { lifecycle: ['owner'] },
  actions: [{ type: 'follow_up', title: '首保邀约', talkTrack: '您好，首保时间快到了', sla: '48h' }],
});

beforeAll(async () => {
  db = await useTestDatabase('rules-api');
  h = await startApiHarness();
  marketingA = await h.token('marketing', [CORP_A]);
  marketingB = await h.token('marketing', [CORP_B]);
  oem = await h.token('oem');
  advisorA = await h.token('advisor', [CORP_A], 'zhangwei');
});
afterAll(async () => {
  await h.close();
  await db.drop();
});
beforeEach(async () => {
  await Promise.all([RuleModel.deleteMany({}), RuleVersionModel.deleteMany({}), AuditEntryModel.deleteMany({})]);
});

const as = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('rules API', () => {
  it('creates, versions on update, and shows the history; every change is audited without content', async () => {
    const created = await request(h.app.callback()).post('/api/v1/rules').set(as(marketingA)).send(delivery(CORP_A, true)).expect(201);
    expect(created.body).toMatchObject({ version: 1, enabled: true, scope: CORP_A });
    const id = created.body.id as string;
    const changed = { ...delivery(CORP_A), name: '交车欢迎 v2' };
    await request(h.app.callback()).put(`/api/v1/rules/${id}`).set(as(marketingA)).set('If-Match', '1').send(changed).expect(200);
    await request(h.app.callback()).put(`/api/v1/rules/${id}`).set(as(marketingA)).set('If-Match', '1').send(changed).expect(409);
    const got = await request(h.app.callback()).get(`/api/v1/rules/${id}`).set(as(marketingA)).expect(200);
    expect(got.body.version).toBe(2);
    expect(got.body.versions.map((v: { version: number; change: string }) => `${v.version}:${v.change}`)).toEqual(['2:updated', '1:created enabled']);
    const audit = await request(h.app.callback()).get('/api/v1/audit').set(as(BOOTSTRAP)).expect(200);
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual(['rule.update', 'rule.create']);
    expect(JSON.stringify(audit.body)).not.toContain('欢迎成为车主');
  });

  it('answers 422 with { path, message } a marketing person can act on', async () => {
    const res = await request(h.app.callback()).post('/api/v1/rules').set(as(marketingA))
      .send({ ...firstService(CORP_A), actions: [{ type: 'tag', add: [{ group: 'g', name: 'n' }] }, { type: 'follow_up', title: 't', dueIn: 'tomorrow' }] }).expect(422);
    expect(res.body.error.details).toEqual([{ path: 'actions[1].dueIn', message: 'use a duration like 3d or 48h (d = days, h = hours, m = minutes)' }]);
  });

  it('keeps corps apart: B cannot see, change or preview A\'s rules; marketing cannot author all-corps rules', async () => {
    const id = (await request(h.app.callback()).post('/api/v1/rules').set(as(marketingA)).send(delivery(CORP_A)).expect(201)).body.id as string;
    await request(h.app.callback()).get(`/api/v1/rules/${id}`).set(as(marketingB)).expect(404);
    await request(h.app.callback()).put(`/api/v1/rules/${id}`).set(as(marketingB)).send(delivery(CORP_B)).expect(404);
    await request(h.app.callback()).post(`/api/v1/rules/${id}/disable`).set(as(marketingB)).expect(404);
    await request(h.app.callback()).delete(`/api/v1/rules/${id}`).set(as(marketingB)).expect(404);
    await request(h.app.callback()).post(`/api/v1/rules/${id}/preview`).set(as(marketingB)).expect(404);
    await request(h.app.callback()).post('/api/v1/rules').set(as(marketingB)).send(delivery(CORP_A)).expect(403);
    await request(h.app.callback()).post('/api/v1/rules').set(as(marketingA)).send(delivery('all')).expect(403);
    expect((await request(h.app.callback()).get('/api/v1/rules').set(as(marketingB)).expect(200)).body.rules).toEqual([]);
    await request(h.app.callback()).get('/api/v1/rules').set(as(advisorA)).expect(403);
    await request(h.app.callback()).get('/api/v1/rules').expect(401);
    await request(h.app.callback()).get('/api/v1/rules').set(as('scrm_nosuchtoken0_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')).expect(401);
  });

  it('lets a corp switch off an all-corps rule for itself only, and lists by scope and enabled', async () => {
    const id = (await request(h.app.callback()).post('/api/v1/rules').set(as(oem)).send(delivery('all', true)).expect(201)).body.id as string;
    const off = await request(h.app.callback()).post(`/api/v1/rules/${id}/disable`).set(as(marketingA)).expect(200);
    expect(off.body).toMatchObject({ enabled: true, disabledCorps: [CORP_A] });
    const listed = await request(h.app.callback()).get('/api/v1/rules?scope=all&enabled=true').set(as(marketingB)).expect(200);
    expect(listed.body.rules.map((r: { id: string }) => r.id)).toEqual([id]);
    await request(h.app.callback()).delete(`/api/v1/rules/${id}`).set(as(oem)).expect(204);
    expect((await request(h.app.callback()).get('/api/v1/rules').set(as(oem)).expect(200)).body.rules).toEqual([]);
  });

  it('previews matches and one example customer\'s actions with times, doing nothing', async () => {
    const owner = await CustomerModel.create({ corpId: CORP_A, externalUserId: 'wmOwner1', lifecycle: { stage: 'owner', reason: 'vehicle_linked' }, responsibleUserid: 'zhangwei' });
    await CustomerModel.create({ corpId: CORP_A, externalUserId: 'wmProspect', lifecycle: { stage: 'prospect', reason: 'added' } });
    await VehicleModel.create({ corpId: CORP_A, vin: 'LSVAB2180E2000001', customerId: owner._id, deliveryDate: new Date('2026-04-29T16:00:00Z'), source: 'api' });
    const res = await request(h.app.callback()).post('/api/v1/rules/preview').set(as(marketingA)).send(firstService(CORP_A)).expect(200);
    expect(res.body).toMatchObject({ corpId: CORP_A, matching: 1, exact: true, example: { customerId: String(owner._id), actions: [{ index: 0, type: 'follow_up', when: '2026-09-27T02:00:00.000Z' }] } });
    expect(await RuleModel.countDocuments({})).toBe(0);
    await request(h.app.callback()).post('/api/v1/rules/preview').set(as(oem)).send(firstService('all')).expect(422);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once a token is over its limit, per token', async () => {
    const limited = await startApiHarness({ API_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const t = await limited.token('marketing', [CORP_A]);
      for (let i = 0; i < 3; i++) await request(limited.app.callback()).get('/api/v1/rules').set(as(t)).expect(200);
      const res = await request(limited.app.callback()).get('/api/v1/rules').set(as(t)).expect(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      await request(limited.app.callback()).get('/api/v1/rules').set(as(BOOTSTRAP)).expect(200);
    } finally {
      await limited.close();
    }
  });
});
