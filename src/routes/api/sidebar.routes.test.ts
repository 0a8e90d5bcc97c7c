import { Types } from 'mongoose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { CorpTagGroupModel } from '../../domain/customers/corp-tag.model.js';
import { LeadModel } from '../../domain/acquisition/lead.model.js';
import { OutcomeModel } from '../../domain/outcomes/outcome.model.js';
import { contentMediaUploadJob } from '../../queues/jobs/content.jobs.js';
import { TaskModel } from '../../domain/tasks/task.model.js';
import { VehicleModel } from '../../domain/vehicles/vehicle.model.js';
import { jsapiSignature } from '../../wecom/jsapi-signature.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { CORP_A, CORP_B, startApiHarness } from './api.test-support.js';
import { seedSidebarCustomer, type SeedFollow } from './sidebar.test-support.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startApiHarness>>;
const as = (token: string) => ({ Authorization: `Bearer ${token}` });
const HOUR = 3_600_000;
let zhao: string;
let taskId: string;

const customer = (corpId: string, ext: string, name: string, follows: SeedFollow[]) =>
  seedSidebarCustomer(h, corpId, ext, name, follows);

beforeAll(async () => {
  db = await useTestDatabase('sidebar-api');
  h = await startApiHarness({ PUBLIC_BASE_URL: 'https://scrm.example.com' });
  await AdvisorModel.create([
    { corpId: CORP_A, userid: 'wangqiang', name: '王强', departments: [2], leadsDepartments: [2] },
    { corpId: CORP_A, userid: 'zhangwei', name: '张伟', departments: [2] },
    { corpId: CORP_A, userid: 'chenjing', name: '陈静', departments: [3] },
  ]);
  await CorpTagGroupModel.create({
    corpId: CORP_A,
    groupId: 'g1',
    groupName: '客户类型',
    tags: [{ id: 'tagOwner', name: '保客' }],
  });
  zhao = await customer(CORP_A, 'wmZhaoSidebar0001', '赵先生', [
    { userid: 'zhangwei', remark: '赵总', tags: ['tagOwner'] },
  ]);
  await customer(CORP_A, 'wmQianSidebar0001', '钱女士', [{ userid: 'chenjing', remark: '钱姐' }]);
  await customer(CORP_A, 'wmSunSidebar00001', '孙先生', [{ userid: 'zhangwei', status: 'deleted_by_customer' }]);
  await VehicleModel.create({
    corpId: CORP_A,
    vin: 'LVSHCAME0PE100077',
    model: '星途瑶光',
    customerId: new Types.ObjectId(zhao),
    source: 'api',
    deliveryDate: new Date('2026-01-10T00:00:00Z'),
    mileageKm: 5200,
    insuranceExpiry: new Date('2027-01-09T00:00:00Z'),
  });
  const now = h.clock.nowMs();
  const task = await TaskModel.create({
    corpId: CORP_A,
    customerId: new Types.ObjectId(zhao),
    advisorUserid: 'zhangwei',
    title: '首保邀约',
    talkTrack: '{客户}您好，您的{车型}快到首保了',
    dueAt: new Date(now - HOUR),
    slaMs: 24 * HOUR,
    remindAt: new Date(now - HOUR),
    ladder: { escalateAfterMs: 48 * HOUR, flagAfterMs: 72 * HOUR },
  });
  taskId = String(task._id);
  // Results beside the touches: a repair order from the DMS and the lead that brought the customer.
  await OutcomeModel.create({
    corpId: CORP_A,
    source: 'dms',
    externalId: 'RO-SIDEBAR-1',
    version: 1,
    orderKey: '1',
    type: 'repair_order',
    roType: 'first_maintenance',
    status: 'active',
    occurredAt: new Date(now - 3 * HOUR),
    customerId: new Types.ObjectId(zhao),
    matchedBy: 'vin',
    receivedVia: 'api',
    receivedAt: new Date(now),
  });
  await OutcomeModel.create({
    corpId: CORP_B,
    source: 'dms',
    externalId: 'RO-OTHER-CORP',
    version: 1,
    orderKey: '1',
    type: 'repair_order',
    status: 'active',
    occurredAt: new Date(now - HOUR),
    customerId: new Types.ObjectId(zhao),
    matchedBy: 'vin',
    receivedVia: 'api',
    receivedAt: new Date(now),
  });
  await LeadModel.create({
    corpId: CORP_A,
    source: 'autohome',
    stage: 'test_drive',
    advisorUserid: 'zhangwei',
    customerId: new Types.ObjectId(zhao),
    lastInterestAt: new Date(now - 2 * HOUR),
  });
});
afterAll(async () => {
  await h.close();
  await db.drop();
});

describe('sidebar customer view', () => {
  it('shows the advisor their own customer: remark, lifecycle, vehicle with next maintenance, task with talk track, tags, touches; audited', async () => {
    const token = await h.token('advisor', [CORP_A], 'zhangwei');
    const res = await request(h.app.callback())
      .get('/api/v1/sidebar/customer')
      .query({ externalUserid: 'wmZhaoSidebar0001' })
      .set(as(token));
    expect(res.status).toBe(200);
    expect(res.body.access).toBe('own');
    expect(res.body.customer).toMatchObject({
      id: zhao,
      name: '赵先生',
      remark: '赵总',
      displayName: '赵总',
      lifecycle: { stage: 'owner', reason: 'vehicle_linked' },
      optOut: { value: false },
      tags: [{ id: 'tagOwner', name: '保客' }],
    });
    expect(res.body.vehicles[0]).toMatchObject({
      model: '星途瑶光',
      vinTail: '100077',
      mileageKm: 5200,
      insuranceExpiry: '2027-01-09T00:00:00.000Z',
    });
    expect(res.body.vehicles[0].nextMaintenanceDue).toMatch(/^2026-07-09T16:00:00/);
    expect(res.body.tasks[0]).toMatchObject({
      id: taskId,
      title: '首保邀约',
      overdue: true,
      mine: true,
      talkTrack: '赵总您好，您的星途瑶光快到首保了',
    });
    expect(res.body.touches).toContainEqual(
      expect.objectContaining({ kind: 'lead', what: 'lead.autohome', result: 'lead_test_drive', by: 'zhangwei' }),
    );
    const outcomes = (res.body.touches as Array<{ kind: string; what: string }>).filter((t) => t.kind === 'outcome');
    // Only this corp's repair order, by its type; never the amounts.
    expect(outcomes).toEqual([expect.objectContaining({ what: 'outcome.first_maintenance' })]);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(
      await AuditEntryModel.countDocuments({ action: 'sidebar.read', 'target.id': zhao, 'actor.userid': 'zhangwei' }),
    ).toBe(1);
  });

  it("refuses another advisor's customer and a former customer, with an audit record", async () => {
    const token = await h.token('advisor', [CORP_A], 'zhangwei');
    for (const ext of ['wmQianSidebar0001', 'wmSunSidebar00001']) {
      const res = await request(h.app.callback())
        .get('/api/v1/sidebar/customer')
        .query({ externalUserid: ext })
        .set(as(token));
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('not_your_customer');
    }
    expect(await AuditEntryModel.countDocuments({ action: 'sidebar.refused', 'actor.userid': 'zhangwei' })).toBe(2);
    const unknown = await request(h.app.callback())
      .get('/api/v1/sidebar/customer')
      .query({ externalUserid: 'wmNobody000000001' })
      .set(as(token));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('customer_not_found');
  });

  it("lets a manager see their departments' customers, and nobody another corp's", async () => {
    const manager = await h.token('manager', [CORP_A], 'wangqiang');
    const ok = await request(h.app.callback())
      .get('/api/v1/sidebar/customer')
      .query({ externalUserid: 'wmZhaoSidebar0001' })
      .set(as(manager));
    expect(ok.status).toBe(200);
    expect(ok.body.access).toBe('team');
    const outside = await request(h.app.callback())
      .get('/api/v1/sidebar/customer')
      .query({ externalUserid: 'wmQianSidebar0001' })
      .set(as(manager));
    expect(outside.status).toBe(403);
    const otherCorp = await request(h.app.callback())
      .get('/api/v1/sidebar/customer')
      .query({ externalUserid: 'wmZhaoSidebar0001', corpId: CORP_B })
      .set(as(manager));
    expect(otherCorp.status).toBe(404);
  });

  it('answers bad input with a 422 that names the field', async () => {
    const token = await h.token('advisor', [CORP_A], 'zhangwei');
    const res = await request(h.app.callback())
      .get('/api/v1/sidebar/customer')
      .query({ externalUserid: 'bad id!' })
      .set(as(token));
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain('externalUserid');
    const marketing = await h.token('marketing', [CORP_A]);
    expect(
      (
        await request(h.app.callback())
          .get('/api/v1/sidebar/customer')
          .query({ externalUserid: 'wmZhaoSidebar0001' })
          .set(as(marketing))
      ).status,
    ).toBe(403);
  });

  it('records "booked with date" when the task is completed from the sidebar', async () => {
    const token = await h.token('advisor', [CORP_A], 'zhangwei');
    const bad = await request(h.app.callback())
      .post(`/api/v1/tasks/${taskId}/complete`)
      .send({ outcome: 'contacted', bookedAt: '2026-05-12T10:00:00+08:00' })
      .set(as(token));
    expect(bad.status).toBe(422);
    const res = await request(h.app.callback())
      .post(`/api/v1/tasks/${taskId}/complete`)
      .send({ outcome: 'appointment_booked', bookedAt: '2026-05-12T10:00:00+08:00' })
      .set(as(token));
    expect(res.status).toBe(200);
    const task = await TaskModel.findById(taskId).lean();
    expect(task?.history.at(-1)?.detail).toMatchObject({
      outcome: 'appointment_booked',
      bookedAt: '2026-05-12T02:00:00.000Z',
    });
  });
});

describe('sidebar JS-SDK config', () => {
  it('answers 503 when the process signs nothing and 422 for a page outside the console', async () => {
    const token = await h.token('advisor', [CORP_A], 'zhangwei');
    const outside = await request(h.app.callback())
      .get('/api/v1/sidebar/jsapi-config')
      .query({ url: 'https://evil.example/x' })
      .set(as(token));
    expect(outside.status).toBe(422);
    const unsigned = await request(h.app.callback())
      .get('/api/v1/sidebar/jsapi-config')
      .query({ url: 'https://scrm.example.com/console/sidebar' })
      .set(as(token));
    expect(unsigned.status).toBe(503);
    expect(jsapiSignature({ ticket: 't', nonceStr: 'n', timestamp: 1, url: 'u' })).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('sidebar sends', () => {
  it("records a message sent from the sidebar as a touch (source sidebar), not toward the campaign cap; refuses others' customers", async () => {
    const { MessageRecipientModel } = await import('../../domain/messages/message.model.js');
    const { messagesThisMonth } = await import('../../domain/messages/message.service.js');
    const token = await h.token('advisor', [CORP_A], 'zhangwei');
    const res = await request(h.app.callback())
      .post('/api/v1/sidebar/sends')
      .send({ externalUserid: 'wmZhaoSidebar0001', kind: 'talk_track', taskId })
      .set(as(token));
    expect(res.status).toBe(201);
    const row = await MessageRecipientModel.findById(res.body.id).lean();
    expect(row).toMatchObject({
      source: 'sidebar',
      status: 'sent',
      sender: 'zhangwei',
      externalUserId: 'wmZhaoSidebar0001',
    });
    expect(await messagesThisMonth(CORP_A, zhao, row?.monthKey ?? '')).toBe(0);
    const view = await request(h.app.callback())
      .get('/api/v1/sidebar/customer')
      .query({ externalUserid: 'wmZhaoSidebar0001' })
      .set(as(token));
    expect(view.body.touches).toContainEqual(
      expect.objectContaining({ kind: 'message', what: 'message.sidebar', result: 'sent', by: 'zhangwei' }),
    );
    const refused = await request(h.app.callback())
      .post('/api/v1/sidebar/sends')
      .send({ externalUserid: 'wmQianSidebar0001', kind: 'text' })
      .set(as(token));
    expect(refused.status).toBe(403);
    const bad = await request(h.app.callback())
      .post('/api/v1/sidebar/sends')
      .send({ externalUserid: 'wmZhaoSidebar0001', kind: 'fax' })
      .set(as(token));
    expect(bad.status).toBe(422);
  });

  it('asks the worker to upload a library image that has no media id in this corp yet, once per half-day', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).toString('base64');
    const marketing = await h.token('marketing', [CORP_A], 'lina');
    const img = await request(h.app.callback())
      .post('/api/v1/media')
      .set(as(marketing))
      .send({ scope: CORP_A, filename: 'poster.png', contentType: 'image/png', dataBase64: png });
    expect(img.status).toBe(201);
    const item = await request(h.app.callback())
      .post('/api/v1/content')
      .set(as(marketing))
      .send({ kind: 'image', scope: CORP_A, title: '冬季保养海报', assetId: img.body.id });
    expect(item.status).toBe(201);
    const token = await h.token('advisor', [CORP_A], 'zhangwei');
    const view = async () =>
      request(h.app.callback())
        .get('/api/v1/sidebar/customer')
        .query({ externalUserid: 'wmZhaoSidebar0001' })
        .set(as(token));
    const first = await view();
    const offered = (first.body.content as Array<{ id: string; unavailable?: string; assetId?: string }>).find(
      (c) => c.id === item.body.id,
    );
    expect(offered).toMatchObject({ unavailable: 'image_not_uploaded', assetId: img.body.id });
    await view();
    const queue = h.queues.get(contentMediaUploadJob.queue);
    const jobs = (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).filter(
      (j) => j.name === contentMediaUploadJob.name && j.data.assetId === img.body.id,
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data).toMatchObject({ corpId: CORP_A, assetId: img.body.id });
  });
});
