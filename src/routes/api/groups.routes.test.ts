import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { GroupModel } from '../../domain/groups/group.model.js';
import { GroupWelcomeTemplateModel } from '../../domain/groups/group-welcome.model.js';
import { groupWelcomeSyncJob } from '../../queues/jobs/groups.jobs.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { CORP_A, CORP_B, startApiHarness } from './api.test-support.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startApiHarness>>;
const as = (token: string) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  db = await useTestDatabase('groups-routes');
  h = await startApiHarness();
  const now = new Date('2026-05-09T00:00:00Z');
  await GroupModel.create([
    {
      corpId: CORP_A,
      chatId: 'wrA1',
      name: '汉兰达车主群',
      ownerUserid: 'zhangwei',
      memberCount: 3,
      customerCount: 2,
      fetchedAt: now,
      members: [
        { memberId: 'zhangwei', type: 'staff', joinedAt: now, joinScene: 'direct' },
        { memberId: 'wmA1', type: 'customer', joinedAt: now, joinScene: 'qr' },
        { memberId: 'wmA2', type: 'customer', joinedAt: now, joinScene: 'link' },
      ],
    },
    { corpId: CORP_B, chatId: 'wrB1', name: 'B', ownerUserid: 'x', fetchedAt: now },
  ]);
});
afterAll(async () => {
  await h?.close();
  await db?.drop();
});

describe('/api/v1/groups', () => {
  it("lists a corp's groups without member ids, sets purpose tags, and hides other corps", async () => {
    const mkt = await h.token('marketing', [CORP_A]);
    const list = await request(h.app.callback()).get(`/api/v1/groups?corpId=${CORP_A}`).set(as(mkt)).expect(200);
    expect(list.body.groups).toEqual([
      expect.objectContaining({ chatId: 'wrA1', members: 3, customers: 2, purposeTags: [] }),
    ]);
    expect(JSON.stringify(list.body)).not.toContain('wmA1');
    await request(h.app.callback())
      .patch('/api/v1/groups/wrA1')
      .set(as(mkt))
      .send({ corpId: CORP_A, purposeTags: ['model:汉兰达', 'region:东区'] })
      .expect(200);
    const tagged = await request(h.app.callback())
      .get(`/api/v1/groups?corpId=${CORP_A}&purposeTag=model:汉兰达`)
      .set(as(mkt))
      .expect(200);
    expect(tagged.body.groups).toHaveLength(1);
    const bad = await request(h.app.callback())
      .patch('/api/v1/groups/wrA1')
      .set(as(mkt))
      .send({ corpId: CORP_A, purposeTags: ['has space'] })
      .expect(422);
    expect(JSON.stringify(bad.body)).toMatch(/no spaces/);
    await request(h.app.callback()).get('/api/v1/groups/wrB1').set(as(mkt)).expect(404);
    await request(h.app.callback()).get(`/api/v1/groups?corpId=${CORP_B}`).set(as(mkt)).expect(404);
    const detail = await request(h.app.callback()).get('/api/v1/groups/wrA1').set(as(mkt)).expect(200);
    expect(detail.body.memberList).toHaveLength(3);
  });

  it('answers KPIs for a period and refuses a period that ends before it starts', async () => {
    const mgr = await h.token('manager', [CORP_A], 'lead1');
    const k = await request(h.app.callback())
      .get(`/api/v1/groups/kpis?corpId=${CORP_A}&from=2026-05-01&to=2026-06-01`)
      .set(as(mgr))
      .expect(200);
    expect(k.body).toMatchObject({ groups: 1, members: 3 });
    await request(h.app.callback())
      .get(`/api/v1/groups/kpis?corpId=${CORP_A}&from=2026-06-01&to=2026-05-01`)
      .set(as(mgr))
      .expect(422);
    await request(h.app.callback())
      .get(`/api/v1/groups/kpis?corpId=${CORP_A}&from=nonsense&to=2026-05-01`)
      .set(as(mgr))
      .expect(422);
  });
});

describe('/api/v1/group-welcome-templates', () => {
  it('stores a template and enqueues its WeCom sync; refuses empty or doubled content', async () => {
    const mkt = await h.token('marketing', [CORP_A]);
    const res = await request(h.app.callback())
      .post('/api/v1/group-welcome-templates')
      .set(as(mkt))
      .send({
        corpId: CORP_A,
        label: '车主群欢迎',
        text: '欢迎 %NICKNAME% 加入车主群',
        link: { title: '保养预约', url: 'https://example.com/b' },
      })
      .expect(202);
    const job = await h.queues.get(groupWelcomeSyncJob.queue).getJob(`group-welcome-${res.body.id as string}-0`);
    expect(job?.name).toBe('group-welcome-sync');
    await request(h.app.callback())
      .post('/api/v1/group-welcome-templates')
      .set(as(mkt))
      .send({ corpId: CORP_A, label: 'x' })
      .expect(422);
    await request(h.app.callback())
      .post('/api/v1/group-welcome-templates')
      .set(as(mkt))
      .send({
        corpId: CORP_A,
        label: 'x',
        imageUrl: 'https://example.com/a.png',
        link: { title: 't', url: 'https://example.com' },
      })
      .expect(422);
    await request(h.app.callback())
      .put(`/api/v1/group-welcome-templates/${res.body.id as string}`)
      .set(as(mkt))
      .send({ corpId: CORP_A, label: '车主群欢迎', text: '欢迎' })
      .expect(202);
    expect((await GroupWelcomeTemplateModel.findById(res.body.id).lean())?.revision).toBe(1);
    await request(h.app.callback())
      .delete(`/api/v1/group-welcome-templates/${res.body.id as string}?corpId=${CORP_A}`)
      .set(as(mkt))
      .expect(202);
    const list = await request(h.app.callback())
      .get(`/api/v1/group-welcome-templates?corpId=${CORP_A}`)
      .set(as(mkt))
      .expect(200);
    expect(list.body.templates).toEqual([]);
    // Each change is audited with its revision, never its content.
    const audit = await AuditEntryModel.find({ 'target.id': res.body.id as string }, { action: 1, detail: 1, _id: 0 })
      .sort({ at: 1, _id: 1 })
      .lean();
    expect(audit).toEqual([
      { action: 'group_welcome_template.created', detail: { revision: 0 } },
      { action: 'group_welcome_template.edited', detail: { revision: 1 } },
      { action: 'group_welcome_template.deleted', detail: { revision: 2 } },
    ]);
    const adv = await h.token('advisor', [CORP_A], 'zhangwei');
    await request(h.app.callback())
      .post('/api/v1/group-welcome-templates')
      .set(as(adv))
      .send({ corpId: CORP_A, label: 'x', text: 'y' })
      .expect(403);
  });

  it('answers the console form’s mistakes with a 4xx in words, and lets managers read but not write', async () => {
    const mkt = await h.token('marketing', [CORP_A]);
    const mgr = await h.token('manager', [CORP_A], 'lead1');
    const api = request(h.app.callback());
    const badUrl = await api
      .post('/api/v1/group-welcome-templates')
      .set(as(mkt))
      .send({ corpId: CORP_A, label: 'x', link: { title: 't', url: 'not a url' } })
      .expect(422);
    expect(JSON.stringify(badUrl.body)).toContain('/link/url');
    const tooLong = await api
      .post('/api/v1/group-welcome-templates')
      .set(as(mkt))
      .send({ corpId: CORP_A, label: 'x', text: '欢'.repeat(1001) })
      .expect(422);
    expect(JSON.stringify(tooLong.body)).toMatch(/at most 3000 bytes/);
    const unknown = await api
      .put('/api/v1/group-welcome-templates/not-an-id')
      .set(as(mkt))
      .send({ corpId: CORP_A, label: 'x', text: 'y' })
      .expect(404);
    expect(unknown.body.error.code).toBe('welcome_template_not_found');
    await api
      .delete(`/api/v1/group-welcome-templates/${'f'.repeat(24)}?corpId=${CORP_A}`)
      .set(as(mkt))
      .expect(404);
    await api.get(`/api/v1/group-welcome-templates?corpId=${CORP_A}`).set(as(mgr)).expect(200);
    await api
      .post('/api/v1/group-welcome-templates')
      .set(as(mgr))
      .send({ corpId: CORP_A, label: 'x', text: 'y' })
      .expect(403);
    await api
      .patch('/api/v1/groups/wrA1')
      .set(as(mgr))
      .send({ corpId: CORP_A, purposeTags: ['region:东区'] })
      .expect(403);
    const unknownGroup = await api
      .patch('/api/v1/groups/wrNope')
      .set(as(mkt))
      .send({ corpId: CORP_A, purposeTags: ['region:东区'] })
      .expect(404);
    expect(unknownGroup.body.error.code).toBe('group_not_found');
    await api
      .get(`/api/v1/groups?corpId=${CORP_A}&purposeTag=${encodeURIComponent('a,b')}`)
      .set(as(mkt))
      .expect(422);
  });
});
