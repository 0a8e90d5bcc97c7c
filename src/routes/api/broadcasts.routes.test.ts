import request from 'supertest';
import { Types } from 'mongoose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { BroadcastModel } from '../../domain/broadcasts/broadcast.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { MessageBatchModel, MessageRecipientModel } from '../../domain/messages/message.model.js';
import { OutcomeModel } from '../../domain/outcomes/outcome.model.js';
import { VehicleModel } from '../../domain/vehicles/vehicle.model.js';
import { broadcastCancelJob } from '../../queues/jobs/broadcasts.jobs.js';
import { bearer, CORP_A, CORP_B, useApiHarness } from './api.test-support.js';

const h = useApiHarness('broadcasts-routes');
const draft = {
  name: '五一保养节',
  audience: { kind: 'segment', conditions: {} },
  content: { text: '保养节：工时 8 折' },
  scheduledAt: '2026-05-10T04:00:00Z',
};

beforeAll(async () => {
  const customers = Array.from({ length: 5 }, (_, i) => ({
    _id: new Types.ObjectId(),
    corpId: CORP_A,
    externalUserId: `wmRouteBc${i}`,
    type: 1,
    responsibleUserid: i < 3 ? 'zhangwei' : 'lina',
    ...(i === 4 ? { optOut: { value: true, at: new Date('2026-05-01T00:00:00Z') } } : {}),
  }));
  await CustomerModel.collection.insertMany(customers);
});

describe('/api/v1/broadcasts', () => {
  it('previews a draft per advisor with exclusions in words, creates it, and a manager (not the author) approves', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'mkt1');
    const mgr = await h.token('manager', [CORP_A], 'manager1');
    const api = request(h.app.callback());
    const preview = await api
      .post('/api/v1/broadcasts/preview')
      .set(bearer(mkt))
      .send({ ...draft, corpId: CORP_A })
      .expect(200);
    expect(preview.body).toMatchObject({
      customers: 4,
      groups: 0,
      calls: 2,
      advisors: [
        { userid: 'lina', customers: 1, groups: 0, excluded: 1 },
        { userid: 'zhangwei', customers: 3, groups: 0, excluded: 0 },
      ],
      excluded: [{ reason: 'opted_out', words: '客户已退订营销消息', count: 1 }],
    });

    const created = await api
      .post('/api/v1/broadcasts')
      .set(bearer(mkt))
      .send({ ...draft, corpId: CORP_A, holdoutPercent: 10 })
      .expect(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({ corpId: CORP_A, status: 'pending_approval' });
    const own = await api.post(`/api/v1/broadcasts/${id}/approve`).set(bearer(mkt)).send({}).expect(403);
    expect(own.body.error.code).toBe('role_forbidden');
    await api.post(`/api/v1/broadcasts/${id}/approve`).set(bearer(mgr)).send({}).expect(200);
    const again = await api.post(`/api/v1/broadcasts/${id}/approve`).set(bearer(mgr)).send({}).expect(409);
    expect(again.body.error.message).toMatch(/is approved, not waiting/);
    const got = await api.get(`/api/v1/broadcasts/${id}`).set(bearer(mgr)).expect(200);
    expect(got.body).toMatchObject({
      status: 'approved',
      chatType: 'single',
      holdoutPercent: 10,
      approvedBy: 'user:manager1',
      progress: [],
    });
    const list = await api.get(`/api/v1/broadcasts?corpId=${CORP_A}`).set(bearer(mgr)).expect(200);
    expect(list.body.broadcasts.map((b: { id: string }) => b.id)).toContain(id);
    expect(await AuditEntryModel.countDocuments({ 'target.id': id })).toBe(2);
  });

  it('previews a segment before its text is written, counting only the customers its conditions match', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'mkt1');
    const api = request(h.app.callback());
    const preview = await api
      .post('/api/v1/broadcasts/preview')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, audience: { kind: 'segment', conditions: { advisors: ['lina'] } } })
      .expect(200);
    // lina's two customers, one of them opted out.
    expect(preview.body).toMatchObject({
      customers: 1,
      advisors: [{ userid: 'lina', customers: 1, excluded: 1 }],
      excluded: [{ reason: 'opted_out', count: 1 }],
    });
    // The text, once given, is still checked.
    const refused = await api
      .post('/api/v1/broadcasts/preview')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, audience: { kind: 'segment' }, content: { text: '{{name}} 您好' } })
      .expect(422);
    expect(refused.body.error.details[0].path).toBe('/content/text');
  });

  it('previews customer variables per advisor and refuses more distinct messages than an advisor can confirm', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'mkt3');
    const api = request(h.app.callback());
    const models = ['Model A', 'Model B', 'Model C', 'Model D', 'Model E', 'Model F'];
    const ids = models.map(() => new Types.ObjectId());
    await CustomerModel.collection.insertMany(
      ids.map((_id, i) => ({
        _id,
        corpId: CORP_A,
        externalUserId: `wmRouteVar${i}`,
        type: 1,
        responsibleUserid: 'capuser',
      })),
    );
    await VehicleModel.collection.insertMany(
      ids.map((customerId, i) => ({
        corpId: CORP_A,
        customerId,
        vin: `LSVAA4189E20000${i}${i}`,
        model: models[i],
        source: 'import',
      })),
    );
    const audience = { kind: 'segment', conditions: { advisors: ['capuser'] } };
    const refused = await api
      .post('/api/v1/broadcasts/preview')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, audience, content: { text: '{车型} 车主专享保养' } })
      .expect(422);
    expect(refused.body.error.details[0]).toMatchObject({
      path: '/content/text',
      message: expect.stringMatching(
        /with the variable \{车型\} advisor capuser would get 6 different messages to confirm one by one in 群发助手 .*limit of 5/,
      ),
    });
    await api
      .post('/api/v1/broadcasts')
      .set(bearer(mkt))
      .send({ ...draft, corpId: CORP_A, audience, content: { text: '{车型} 车主专享保养' } })
      .expect(422);
    // The advisor's name is one value per advisor: one message each.
    const ok = await api
      .post('/api/v1/broadcasts/preview')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, audience, content: { text: '{顾问} 邀您参加保养节' } })
      .expect(200);
    expect(ok.body).toMatchObject({
      customers: 6,
      calls: 1,
      maxMessagesPerAdvisor: 5,
      advisors: [{ userid: 'capuser', customers: 6, messages: 1 }],
    });
  });

  it('refuses what it cannot send with an actionable 4xx and hides other corps', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'mkt2');
    const api = request(h.app.callback());
    const bad = async (body: object, pattern: RegExp, status = 422) => {
      const res = await api.post('/api/v1/broadcasts').set(bearer(mkt)).send(body).expect(status);
      expect(JSON.stringify(res.body)).toMatch(pattern);
    };
    await bad(
      { ...draft, corpId: CORP_A, content: { text: '{{name}} 您好' } },
      /unknown variable \{\{name\}\}; a broadcast text may use \{客户\}/,
    );
    await bad(
      {
        ...draft,
        corpId: CORP_A,
        audience: { kind: 'groups', purposeTag: 'owners' },
        content: { text: '{车型} 车主群福利' },
      },
      /group-chat broadcast delivers one text to each whole group, so customer variables such as \{车型\} cannot be filled/,
    );
    await bad({ ...draft, corpId: CORP_A, chatType: 'group' }, /needs audience/);
    await bad({ ...draft, corpId: CORP_A, content: {} }, /give a text or at least one attachment/);
    await bad({ ...draft, corpId: CORP_A, scheduledAt: '2026-05-01T00:00:00Z' }, /in the past/);
    await bad({ ...draft, corpId: CORP_A, holdoutPercent: 80 }, /holdoutPercent/);
    await bad({ ...draft }, /give corpId/);
    await bad({ ...draft, dealers: 'all' }, /car maker/, 403);
    await bad({ ...draft, corpId: CORP_B }, /cannot act in corp/, 403);
    await bad({ ...draft, corpId: CORP_A, audience: { kind: 'groups' } }, /purposeTag or chatIds/);

    const other = await BroadcastModel.create({
      corpId: CORP_B,
      name: 'B',
      audience: { kind: 'segment', conditions: {} },
      content: { text: 'x', attachments: [] },
      scheduledAt: new Date(),
      createdBy: 'user:x',
    });
    await api
      .get(`/api/v1/broadcasts/${String(other._id)}`)
      .set(bearer(mkt))
      .expect(404);
    await api
      .post(`/api/v1/broadcasts/${String(other._id)}/cancel`)
      .set(bearer(mkt))
      .expect(404);
    await api.get('/api/v1/broadcasts/not-an-id').set(bearer(mkt)).expect(404);
    const list = await api.get('/api/v1/broadcasts').set(bearer(mkt)).expect(200);
    expect(list.body.broadcasts.every((b: { corpId: string }) => b.corpId === CORP_A)).toBe(true);

    // A dealer admin may create and approve, but not their own broadcast.
    const admin = await h.token('dealer_admin', [CORP_A], 'adminA');
    const own = await api
      .post('/api/v1/broadcasts')
      .set(bearer(admin))
      .send({ ...draft, corpId: CORP_A })
      .expect(201);
    const refused = await api
      .post(`/api/v1/broadcasts/${own.body.id as string}/approve`)
      .set(bearer(admin))
      .send({})
      .expect(409);
    expect(refused.body.error.code).toBe('broadcast_own_approval');
  });

  it('pushes a car-maker broadcast as one copy per dealer, each approved by its own dealer', async () => {
    const oem = await h.token('oem', [], 'oem1');
    const adminB = await h.token('dealer_admin', [CORP_B], 'adminB');
    const api = request(h.app.callback());
    const pushed = await api
      .post('/api/v1/broadcasts')
      .set(bearer(oem))
      .send({ ...draft, dealers: 'all' })
      .expect(201);
    expect(pushed.body.copies.map((c: { corpId: string }) => c.corpId).sort()).toEqual([CORP_A, CORP_B]);
    const copyB = pushed.body.copies.find((c: { corpId: string }) => c.corpId === CORP_B).id as string;
    const copyA = pushed.body.copies.find((c: { corpId: string }) => c.corpId === CORP_A).id as string;
    await api.post(`/api/v1/broadcasts/${copyB}/approve`).set(bearer(oem)).send({}).expect(403);
    await api.post(`/api/v1/broadcasts/${copyA}/approve`).set(bearer(adminB)).send({}).expect(404);
    await api.post(`/api/v1/broadcasts/${copyB}/approve`).set(bearer(adminB)).send({}).expect(200);
    const copies = await api
      .get(`/api/v1/broadcasts?parentId=${pushed.body.parentId as string}`)
      .set(bearer(oem))
      .expect(200);
    expect(copies.body.broadcasts.map((b: { status: string }) => b.status).sort()).toEqual([
      'approved',
      'pending_approval',
    ]);
    const unknown = await api
      .post('/api/v1/broadcasts')
      .set(bearer(oem))
      .send({ ...draft, dealers: ['wwnosuchcorp01'] })
      .expect(422);
    expect(unknown.body.error.details[0].message).toMatch(/not dealer corps: wwnosuchcorp01/);
  });

  it('shows progress per advisor with reasons in words, and cancelling a sent broadcast queues the WeCom cancel', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'mkt3');
    const api = request(h.app.callback());
    const b = await BroadcastModel.create({
      corpId: CORP_A,
      name: 'sent',
      status: 'sent',
      audience: { kind: 'segment', conditions: {} },
      content: { text: 'x', attachments: [] },
      scheduledAt: new Date('2026-05-09T00:00:00Z'),
      createdBy: 'user:x',
      summary: { customers: 3, groups: 0, calls: 2, excluded: { opted_out: 1 } },
    });
    const [confirmed, open] = await MessageBatchModel.create([
      {
        corpId: CORP_A,
        sender: 'zhangwei',
        contentHash: 'h',
        content: {},
        status: 'final',
        source: 'broadcast',
        broadcastId: b._id,
        chatType: 'single',
        msgid: 'm1',
        openedAt: new Date(),
        confirmedAt: new Date(),
      },
      {
        corpId: CORP_A,
        sender: 'lina',
        contentHash: 'h',
        content: {},
        status: 'created',
        source: 'broadcast',
        broadcastId: b._id,
        chatType: 'single',
        msgid: 'm2',
        openedAt: new Date(),
      },
    ]);
    const row = (batchId: Types.ObjectId, i: number, sender: string, status: string, reason?: string) => ({
      key: `bc|${String(b._id)}|${i}`,
      batchId,
      corpId: CORP_A,
      customerId: new Types.ObjectId(),
      externalUserId: `wmP${i}`,
      sender,
      monthKey: '2026-05',
      status,
      source: 'broadcast',
      broadcastId: b._id,
      ...(reason ? { reason } : {}),
    });
    await MessageRecipientModel.collection.insertMany([
      row(confirmed!._id, 1, 'zhangwei', 'sent'),
      row(confirmed!._id, 2, 'zhangwei', 'failed', 'not_a_friend'),
      row(open!._id, 3, 'lina', 'pending'),
    ]);
    const got = await api
      .get(`/api/v1/broadcasts/${String(b._id)}`)
      .set(bearer(mkt))
      .expect(200);
    expect(got.body.totals).toMatchObject({ sent: 1, pending: 1, failed: 1 });
    expect(got.body.summary.excluded).toEqual([{ reason: 'opted_out', words: '客户已退订营销消息', count: 1 }]);
    expect(got.body.progress).toEqual([
      expect.objectContaining({ userid: 'lina', state: 'unconfirmed', stateWords: '顾问尚未确认发送' }),
      expect.objectContaining({
        userid: 'zhangwei',
        state: 'sent',
        failures: [{ reason: '发送失败：客户已不是该顾问的好友', count: 1 }],
      }),
    ]);
    const cancelled = await api
      .post(`/api/v1/broadcasts/${String(b._id)}/cancel`)
      .set(bearer(mkt))
      .expect(202);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', wecomTasksCancelling: true });
    const job = await h.queues
      .get(broadcastCancelJob.queue)
      .getJob(broadcastCancelJob.jobId!({ corpId: CORP_A, broadcastId: String(b._id) }));
    expect(job?.data).toEqual({ corpId: CORP_A, broadcastId: String(b._id) });
    const twice = await api
      .post(`/api/v1/broadcasts/${String(b._id)}/cancel`)
      .set(bearer(mkt))
      .expect(409);
    expect(twice.body.error.message).toMatch(/is cancelled/);
  });

  it('reports a sent broadcast: treated vs held out with the uplift; refuses bad options, other corps and other roles', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'mkt4');
    const api = request(h.app.callback());
    const startedAt = new Date('2026-05-09T02:00:00Z');
    const b = await BroadcastModel.create({
      corpId: CORP_A,
      name: '保养节报告',
      status: 'sent',
      audience: { kind: 'segment', conditions: {} },
      content: { text: 'x', attachments: [] },
      scheduledAt: startedAt,
      startedAt,
      holdoutPercent: 40,
      createdBy: 'user:x',
    });
    const batch = await MessageBatchModel.create({
      corpId: CORP_A,
      sender: 'zhangwei',
      contentHash: 'r',
      content: {},
      status: 'final',
      source: 'broadcast',
      broadcastId: b._id,
      chatType: 'single',
      msgid: 'mR',
      openedAt: startedAt,
      confirmedAt: startedAt,
    });
    const customers = Array.from({ length: 5 }, () => new Types.ObjectId());
    // Three reached (one came back for a repair order), two held out, one never confirmed (in neither group).
    const row = (i: number, status: string, reason?: string) => ({
      key: `bcr|${String(b._id)}|${i}`,
      batchId: batch._id,
      corpId: CORP_A,
      customerId: customers[i] ?? new Types.ObjectId(),
      externalUserId: `wmR${i}`,
      sender: 'zhangwei',
      monthKey: '2026-05',
      status,
      source: 'broadcast',
      broadcastId: b._id,
      ...(status === 'sent' ? { sentAt: startedAt } : {}),
      ...(reason ? { reason } : {}),
    });
    await MessageRecipientModel.collection.insertMany([
      row(0, 'sent'),
      row(1, 'sent'),
      row(2, 'sent'),
      row(3, 'cancelled', 'holdout'),
      row(4, 'cancelled', 'holdout'),
      row(5, 'pending'),
    ]);
    const occurredAt = new Date('2026-05-12T07:00:00Z');
    await OutcomeModel.create({
      corpId: CORP_A,
      source: 'dms',
      externalId: 'RO-BCR-1',
      version: 1,
      orderKey: '000000000001.1',
      type: 'repair_order',
      status: 'active',
      occurredAt,
      customerId: customers[0],
      matchedBy: 'vin',
      roType: 'maintenance',
      revenue: 600,
      receivedVia: 'api',
      receivedAt: occurredAt,
    });
    const got = await api
      .get(`/api/v1/broadcasts/${String(b._id)}/report?windowDays=30`)
      .set(bearer(mkt))
      .expect(200);
    expect(got.body).toMatchObject({
      broadcastId: String(b._id),
      corpId: CORP_A,
      name: '保养节报告',
      holdoutPercent: 40,
      windowDays: 30,
      treated: { customers: 3, withOutcome: 1, revenue: 600 },
      heldOut: { customers: 2, withOutcome: 0 },
      verdict: 'not_significant',
    });
    expect(got.body.uplift.low).toBeLessThan(0);
    expect(got.body.uplift.high).toBeGreaterThan(0);
    // Outside the window the repair order does not count.
    const short = await api
      .get(`/api/v1/broadcasts/${String(b._id)}/report?windowDays=1`)
      .set(bearer(mkt))
      .expect(200);
    expect(short.body.treated.withOutcome).toBe(0);

    const badWindow = await api
      .get(`/api/v1/broadcasts/${String(b._id)}/report?windowDays=0`)
      .set(bearer(mkt))
      .expect(422);
    expect(JSON.stringify(badWindow.body)).toMatch(/windowDays/);
    const badTypes = await api
      .get(`/api/v1/broadcasts/${String(b._id)}/report?types=lottery`)
      .set(bearer(mkt))
      .expect(422);
    expect(JSON.stringify(badTypes.body)).toMatch(/repair_order/);
    await api.get('/api/v1/broadcasts/not-an-id/report').set(bearer(mkt)).expect(404);
    const otherCorp = await h.token('dealer_admin', [CORP_B], 'adminB');
    await api
      .get(`/api/v1/broadcasts/${String(b._id)}/report`)
      .set(bearer(otherCorp))
      .expect(404);
    const advisor = await h.token('advisor', [CORP_A], 'zhangwei');
    await api
      .get(`/api/v1/broadcasts/${String(b._id)}/report`)
      .set(bearer(advisor))
      .expect(403);
    const mgr = await h.token('manager', [CORP_A], 'manager1');
    await api
      .get(`/api/v1/broadcasts/${String(b._id)}/report`)
      .set(bearer(mgr))
      .expect(200);
  });
});
