import { Types } from 'mongoose';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { MessageBatchModel, MessageRecipientModel } from '../../domain/messages/message.model.js';
import { RuleModel } from '../../domain/rules/rule.model.js';
import { VehicleModel } from '../../domain/vehicles/vehicle.model.js';
import { bearer, CORP_A, CORP_B, useApiHarness } from './api.test-support.js';
import { seedSidebarCustomer } from './sidebar.test-support.js';

const h = useApiHarness('content-api');
const api = () => request(h.app.callback());
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).toString('base64');
let marketingA: string;
let marketingB: string;
let oem: string;
let zhao: string;
let running: string;
let stopped: string;

async function rule(name: string, enabled: boolean): Promise<string> {
  const r = await RuleModel.create({
    name,
    scope: CORP_A,
    enabled,
    version: 1,
    triggerType: 'customer.became_owner',
    priority: 0,
    body: { name, scope: CORP_A, trigger: { type: 'customer.became_owner' } },
  });
  return String(r._id);
}

beforeAll(async () => {
  marketingA = await h.token('marketing', [CORP_A]);
  marketingB = await h.token('marketing', [CORP_B]);
  oem = await h.token('oem', []);
  await AdvisorModel.create({ corpId: CORP_A, userid: 'zhangwei', name: '张伟', departments: [2] });
  zhao = await seedSidebarCustomer(h, CORP_A, 'wmZhaoContent0001', '赵先生', [{ userid: 'zhangwei', remark: '赵总' }]);
  await VehicleModel.create({
    corpId: CORP_A,
    vin: 'LVSHCAME0PE100088',
    model: '星途瑶光',
    customerId: new Types.ObjectId(zhao),
    source: 'api',
    deliveryDate: new Date('2026-01-10T00:00:00Z'),
  });
  running = await rule('首保关怀', true);
  stopped = await rule('旧活动', false);
});

describe('content library API', () => {
  it("a dealer's marketing writes items for its corp; another dealer neither lists nor reads them; audited", async () => {
    const created = await api()
      .post('/api/v1/content')
      .set(bearer(marketingA))
      .send({
        kind: 'talk_track',
        scope: CORP_A,
        title: '首保提醒',
        text: '{客户}您好，您的{车型}该首保了',
        stages: ['owner'],
      });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'talk_track', scope: CORP_A, stages: ['owner'], models: [] });
    const id = created.body.id as string;
    expect((await api().get(`/api/v1/content/${id}`).set(bearer(marketingB))).status).toBe(404);
    const listB = await api().get('/api/v1/content').set(bearer(marketingB));
    expect(listB.body.items.map((i: { id: string }) => i.id)).not.toContain(id);
    const listA = await api().get('/api/v1/content').set(bearer(marketingA));
    expect(listA.body.items.map((i: { id: string }) => i.id)).toContain(id);
    expect(await AuditEntryModel.countDocuments({ action: 'content.create', 'target.id': id })).toBe(1);
  });

  it("the car maker's items (scope all) reach every dealer; a dealer's marketing may not write them", async () => {
    const refused = await api()
      .post('/api/v1/content')
      .set(bearer(marketingA))
      .send({ kind: 'article', scope: 'all', title: '新车上市', url: 'https://oem.example.com/launch' });
    expect(refused.status).toBe(403);
    const made = await api()
      .post('/api/v1/content')
      .set(bearer(oem))
      .send({ kind: 'article', scope: 'all', title: '新车上市', url: 'https://oem.example.com/launch' });
    expect(made.status).toBe(201);
    for (const t of [marketingA, marketingB]) {
      const got = await api().get(`/api/v1/content/${made.body.id}`).set(bearer(t));
      expect(got.status).toBe(200);
    }
    const del = await api().delete(`/api/v1/content/${made.body.id}`).set(bearer(marketingA));
    expect(del.status).toBe(403);
  });

  it('refuses bad input with what to fix, and advisors', async () => {
    const bad = await api().post('/api/v1/content').set(bearer(marketingA)).send({
      kind: 'miniprogram',
      scope: CORP_A,
      title: '预约',
      appid: 'nope',
      page: 'pages/booking/index',
      coverUrl: 'http://x',
    });
    expect(bad.status).toBe(422);
    const paths = (bad.body.error.details as Array<{ path: string }>).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['/appid', '/page', '/coverUrl']));
    const noKind = await api().post('/api/v1/content').set(bearer(marketingA)).send({ scope: CORP_A, title: 'x' });
    expect(noKind.status).toBe(422);
    const otherCorp = await api()
      .post('/api/v1/content')
      .set(bearer(marketingA))
      .send({ kind: 'talk_track', scope: CORP_B, title: 'x', text: 'y' });
    expect(otherCorp.status).toBe(403);
    const advisor = await h.token('advisor', [CORP_A], 'zhangwei');
    const asAdvisor = await api()
      .post('/api/v1/content')
      .set(bearer(advisor))
      .send({ kind: 'talk_track', scope: CORP_A, title: 'x', text: 'y' });
    expect(asAdvisor.status).toBe(403);
  });

  it("an image item must name an image of its scope: another corp's image is refused like a missing one", async () => {
    const imgB = await api()
      .post('/api/v1/media')
      .set(bearer(marketingB))
      .send({ scope: CORP_B, filename: 'b.png', contentType: 'image/png', dataBase64: PNG });
    expect(imgB.status).toBe(201);
    const refused = await api()
      .post('/api/v1/content')
      .set(bearer(marketingA))
      .send({ kind: 'image', scope: CORP_A, title: '保养套餐', assetId: imgB.body.id });
    expect(refused.status).toBe(422);
  });

  it('replaces an item (a kind change leaves no old fields) and deletes it softly', async () => {
    const made = await api().post('/api/v1/content').set(bearer(marketingA)).send({
      kind: 'article',
      scope: CORP_A,
      title: '保养指南',
      url: 'https://dealer.example.com/guide',
      description: 'd',
    });
    const put = await api()
      .put(`/api/v1/content/${made.body.id}`)
      .set(bearer(marketingA))
      .send({ kind: 'talk_track', scope: CORP_A, title: '保养指南', text: '您好' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ kind: 'talk_track', text: '您好' });
    expect(put.body.url).toBeUndefined();
    expect((await api().delete(`/api/v1/content/${made.body.id}`).set(bearer(marketingA))).status).toBe(204);
    expect((await api().get(`/api/v1/content/${made.body.id}`).set(bearer(marketingA))).status).toBe(404);
  });
});

describe('content library in the sidebar', () => {
  it("offers the items that fit the customer's stage, vehicle model and running campaigns, rendered with their variables", async () => {
    const add = async (token: string, body: Record<string, unknown>) => {
      const res = await api().post('/api/v1/content').set(bearer(token)).send(body);
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const fits = await add(marketingA, {
      kind: 'talk_track',
      scope: CORP_A,
      title: '瑶光首保',
      text: '{客户}您好，我是{顾问}，您的{车型}该首保了',
      stages: ['owner'],
      models: ['星途瑶光'],
    });
    const prospects = await add(marketingA, {
      kind: 'talk_track',
      scope: CORP_A,
      title: '试驾',
      text: 't',
      stages: ['prospect'],
    });
    const otherModel = await add(marketingA, {
      kind: 'talk_track',
      scope: CORP_A,
      title: '揽月',
      text: 't',
      models: ['星途揽月'],
    });
    const inCampaign = await add(marketingA, {
      kind: 'miniprogram',
      scope: CORP_A,
      title: '{客户}的专属预约',
      appid: 'wx0123456789abcdef',
      page: 'pages/booking/index.html',
      coverUrl: 'https://dealer.example.com/c.png',
      campaigns: [running],
    });
    const oldCampaign = await add(marketingA, {
      kind: 'talk_track',
      scope: CORP_A,
      title: '旧',
      text: 't',
      campaigns: [stopped],
    });
    const otherDealer = await add(marketingB, { kind: 'talk_track', scope: CORP_B, title: 'B', text: 't' });
    const advisor = await h.token('advisor', [CORP_A], 'zhangwei');
    const view = await api()
      .get('/api/v1/sidebar/customer')
      .query({ externalUserid: 'wmZhaoContent0001' })
      .set(bearer(advisor));
    expect(view.status).toBe(200);
    const ids = (view.body.content as Array<{ id: string }>).map((i) => i.id);
    expect(ids).toEqual(expect.arrayContaining([fits, inCampaign]));
    for (const id of [prospects, otherModel, oldCampaign, otherDealer]) expect(ids).not.toContain(id);
    const item = view.body.content.find((i: { id: string }) => i.id === fits);
    expect(item.message).toEqual({ msgtype: 'text', text: { content: '赵总您好，我是张伟，您的星途瑶光该首保了' } });
    const card = view.body.content.find((i: { id: string }) => i.id === inCampaign);
    expect(card).toMatchObject({
      sendKind: 'miniprogram',
      message: { msgtype: 'miniprogram', miniprogram: { title: '赵总的专属预约', appid: 'wx0123456789abcdef' } },
    });
  });

  it('records a send of a library item as a touch naming the item; an item of another corp is refused', async () => {
    const mine = await api()
      .post('/api/v1/content')
      .set(bearer(marketingA))
      .send({ kind: 'talk_track', scope: CORP_A, title: '问候', text: '{客户}您好' });
    const theirs = await api()
      .post('/api/v1/content')
      .set(bearer(marketingB))
      .send({ kind: 'talk_track', scope: CORP_B, title: '问候', text: '{客户}您好' });
    const advisor = await h.token('advisor', [CORP_A], 'zhangwei');
    const send = (contentId: string) =>
      api()
        .post('/api/v1/sidebar/sends')
        .set(bearer(advisor))
        .send({ externalUserid: 'wmZhaoContent0001', kind: 'talk_track', contentId });
    const ok = await send(mine.body.id);
    expect(ok.status).toBe(201);
    const touch = await MessageRecipientModel.findById(ok.body.id).lean();
    expect(touch).toMatchObject({ source: 'sidebar', sender: 'zhangwei', corpId: CORP_A });
    const batch = await MessageBatchModel.findById(touch?.batchId).lean();
    expect(batch?.content).toMatchObject({ source: 'sidebar', kind: 'talk_track', contentId: mine.body.id });
    expect((await send(theirs.body.id)).status).toBe(404);
  });
});
