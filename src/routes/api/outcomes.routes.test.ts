import { randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../app.js';
import { createLogger } from '../../infra/logger.js';
import { createApiRouter } from './api.router.js';
import { BOOTSTRAP, CORP_A, startApiHarness } from './api.test-support.js';
import { createWebhooksRouter } from '../webhooks/webhooks.router.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { RelationshipModel } from '../../domain/customers/relationship.model.js';
import { OutboxEventModel } from '../../domain/events/outbox-event.model.js';
import { TaskModel } from '../../domain/tasks/task.model.js';
import { VehicleModel } from '../../domain/vehicles/vehicle.model.js';
import { WebhookSecrets } from '../../domain/webhooks/webhook-secret.service.js';
import { signWebhook } from '../../domain/webhooks/webhook-signature.js';
import { AttributionModel } from '../../domain/outcomes/attribution.model.js';
import { importOutcomeRows } from '../../domain/outcomes/outcome-import.js';
import { OutcomeModel } from '../../domain/outcomes/outcome.model.js';
import { NoShowModel } from '../../domain/outcomes/no-show.model.js';
import { detectNoShows, NO_SHOW_TITLE } from '../../domain/outcomes/no-show.service.js';
import { ExecutionModel } from '../../domain/rules/engine/execution.model.js';
import { HOLDOUT_REASON, isHeldOut } from '../../domain/rules/holdout.js';
import { Types as MongooseTypes } from 'mongoose';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startApiHarness>>;
let server: ReturnType<typeof request>;
let secret: string;
const VIN = 'LSVAB2180E2100001';

beforeAll(async () => {
  db = await useTestDatabase('outcomes');
  h = await startApiHarness();
  const logger = createLogger({ level: 'silent', name: 'test' });
  const deps = {
    config: h.config,
    clock: h.clock,
    logger,
    queues: h.queues,
    pd: h.pd,
    redis: h.redis,
    corpService: h.corpService,
  };
  const app = createApp({
    config: h.config,
    logger,
    clock: h.clock,
    health: [],
    mounts: [createApiRouter(deps).routes(), createWebhooksRouter(deps).routes()],
  });
  server = request(app.callback());
});
afterAll(async () => {
  await h.close();
  await db.drop();
});

let customerId: Types.ObjectId;
beforeEach(async () => {
  await Promise.all([
    OutcomeModel.deleteMany({}),
    AttributionModel.deleteMany({}),
    VehicleModel.deleteMany({}),
    CustomerModel.deleteMany({}),
    RelationshipModel.deleteMany({}),
    TaskModel.deleteMany({}),
    OutboxEventModel.deleteMany({}),
    NoShowModel.deleteMany({}),
    ExecutionModel.deleteMany({}),
  ]);
  secret = (await new WebhookSecrets(h.pd.cipher, () => h.clock.now()).rotate(CORP_A, 'dms')).secret;
  const customer = await CustomerModel.create({ corpId: CORP_A, externalUserId: 'wmOwner1' });
  customerId = customer._id;
  await RelationshipModel.create({
    corpId: CORP_A,
    userid: 'zhangwei',
    externalUserId: 'wmOwner1',
    customerId,
    remarkMobileHashes: [h.pd.hash('mobile', '13900000001')],
  });
  await VehicleModel.create({
    corpId: CORP_A,
    vin: VIN,
    customerId,
    externalUserId: 'wmOwner1',
    source: 'import',
    lastServiceDate: new Date('2025-11-01T16:00:00Z'),
    mileageKm: 5000,
  });
});

const ro = (over: Record<string, unknown> = {}) => ({
  externalId: 'RO-1',
  version: 1,
  type: 'repair_order',
  occurredAt: '2026-05-09',
  vin: VIN,
  roNumber: 'RO-1',
  roType: 'maintenance',
  labourAmount: 300,
  partsAmount: 480.5,
  mileageKm: 10100,
  serviceAdvisor: 'SA01',
  ...over,
});

function deliver(body: unknown, opts: { id?: string; ts?: number; key?: string } = {}) {
  const raw = JSON.stringify(body);
  const id = opts.id ?? `msg_${randomUUID()}`;
  const ts = opts.ts ?? Math.floor(h.clock.nowMs() / 1000);
  return server
    .post(`/webhooks/dms/${CORP_A}`)
    .set('content-type', 'application/json')
    .set('webhook-id', id)
    .set('webhook-timestamp', String(ts))
    .set('webhook-signature', signWebhook(opts.key ?? secret, id, ts, raw))
    .send(raw);
}

describe('DMS webhook', () => {
  it("stores a signed repair order, matches it by VIN and moves the vehicle's service date and mileage (anchor_changed in the outbox)", async () => {
    const res = await deliver(ro());
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ status: 'created', externalId: 'RO-1', matchedBy: 'vin' });
    const v = await VehicleModel.findOne({ vin: VIN }).lean();
    expect(v?.lastServiceDate?.toISOString()).toBe('2026-05-08T16:00:00.000Z');
    expect(v?.mileageKm).toBe(10100);
    const events = await OutboxEventModel.find({}).lean();
    expect(
      events
        .map((e) => (e as unknown as { event: { type: string; data: { field: string } } }).event)
        .filter((e) => e.type === 'customer.anchor_changed')
        .map((e) => e.data.field),
    ).toEqual(['lastServiceDate']);
    const stored = await OutcomeModel.findOne({ externalId: 'RO-1' }).lean();
    expect(stored).toMatchObject({ revenue: 780.5, status: 'active', customerId });
  });

  it('accepts a signature made by the standardwebhooks library (interoperability)', async () => {
    const raw = JSON.stringify(ro({ externalId: 'RO-lib' }));
    const id = 'msg_lib_1';
    const signature = new Webhook(secret).sign(id, new Date(h.clock.nowMs()), raw);
    const res = await server
      .post(`/webhooks/dms/${CORP_A}`)
      .set('content-type', 'application/json')
      .set('webhook-id', id)
      .set('webhook-timestamp', String(Math.floor(h.clock.nowMs() / 1000)))
      .set('webhook-signature', signature)
      .send(raw);
    expect(res.status).toBe(200);
  });

  it('refuses a wrong signature, a stale timestamp and missing headers with 401, storing nothing', async () => {
    const wrong = await deliver(ro(), { key: `whsec_${Buffer.from('not the secret').toString('base64')}` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('bad_signature');
    const stale = await deliver(ro(), { ts: Math.floor(h.clock.nowMs() / 1000) - 301 });
    expect(stale.body.error.code).toBe('stale_timestamp');
    const bare = await server.post(`/webhooks/dms/${CORP_A}`).send(ro());
    expect(bare.status).toBe(401);
    expect(await OutcomeModel.countDocuments({})).toBe(0);
  });

  it('refuses a replayed webhook-id with 409 and changes nothing', async () => {
    expect((await deliver(ro(), { id: 'msg_replay' })).status).toBe(200);
    const again = await deliver(ro({ version: 2, labourAmount: 1 }), { id: 'msg_replay' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('replayed_delivery');
    expect((await OutcomeModel.findOne({ externalId: 'RO-1' }).lean())?.version).toBe(1);
  });

  it('a correction replaces the record, an older version arriving late is ignored, and a cancellation removes the credit', async () => {
    await deliver(ro({ version: 2, labourAmount: 500 }));
    const late = await deliver(ro({ version: 1 }));
    expect(late.body.results[0].status).toBe('stale');
    expect(await OutcomeModel.findOne({ externalId: 'RO-1' }).lean()).toMatchObject({ version: 2, revenue: 980.5 });
    expect(await AttributionModel.countDocuments({})).toBe(1);
    const cancel = await deliver(ro({ version: 3, status: 'cancelled' }));
    expect(cancel.body.results[0].status).toBe('updated');
    expect(await OutcomeModel.countDocuments({})).toBe(1);
    expect(await AttributionModel.countDocuments({})).toBe(0);
  });

  it('any delivery order of the same versions ends in the same state', async () => {
    const versions = [
      ro({ version: 3, labourAmount: 3 }),
      ro({ version: 1, labourAmount: 1 }),
      ro({ version: 2, labourAmount: 2 }),
    ];
    for (const v of versions) await deliver(v);
    const a = await OutcomeModel.findOne({ externalId: 'RO-1' }, { _id: 0, receivedAt: 0 }).lean();
    await OutcomeModel.deleteMany({});
    for (const v of [...versions].reverse()) await deliver(v);
    const b = await OutcomeModel.findOne({ externalId: 'RO-1' }, { _id: 0, receivedAt: 0 }).lean();
    expect(b).toEqual(a);
    expect(a?.labourAmount).toBe(3);
  });
});

describe('POST /api/v1/outcomes', () => {
  it('answers a batch per item: accepted ones stored, rejected ones with pointers and reasons; an unknown owner is kept and listed', async () => {
    const res = await server
      .post('/api/v1/outcomes')
      .set('authorization', `Bearer ${BOOTSTRAP}`)
      .send({
        corpId: CORP_A,
        outcomes: [
          ro(),
          { externalId: 'X', version: 1, type: 'repair_order', occurredAt: '2026-02-30', vin: VIN },
          ro({ externalId: 'RO-2', vin: 'LSVAB2180E2199999' }),
        ],
      });
    expect(res.status).toBe(200);
    expect(res.body.summary).toEqual({ created: 2, updated: 0, unchanged: 0, stale: 0, rejected: 1 });
    expect(res.body.results[1].problems).toEqual(
      expect.arrayContaining([
        { path: '/outcomes/1/occurredAt', message: expect.stringContaining('use a date like') },
        { path: '/outcomes/1/roType', message: expect.stringContaining('needs its type') },
      ]),
    );
    const unmatched = await server
      .get(`/api/v1/outcomes/unmatched?corpId=${CORP_A}`)
      .set('authorization', `Bearer ${BOOTSTRAP}`);
    expect(unmatched.body).toMatchObject({ total: 1, items: [{ externalId: 'RO-2', vin: 'LSVAB2180E2199999' }] });
  });

  it('matches by the keyed mobile hash when the VIN is unknown', async () => {
    const res = await server
      .post('/api/v1/outcomes')
      .set('authorization', `Bearer ${BOOTSTRAP}`)
      .send({ corpId: CORP_A, ...ro({ vin: undefined, mobile: '+86 139 0000 0001', externalId: 'RO-m' }) });
    expect(res.body.results[0]).toMatchObject({ status: 'created', matchedBy: 'mobile' });
    expect(await OutcomeModel.findOne({ externalId: 'RO-m' }, { mobileHash: 1 }).lean()).toMatchObject({
      mobileHash: h.pd.hash('mobile', '13900000001'),
    });
  });
});

describe('CSV import', () => {
  async function* rows(records: Array<Record<string, string>>) {
    for (const [i, record] of records.entries()) yield { line: i + 2, record };
  }
  const good = {
    external_id: 'RO-c1',
    version: '1',
    type: 'repair_order',
    occurred_at: '2026-05-01',
    vin: VIN,
    ro_type: 'first_maintenance',
    labour_amount: '200',
    parts_amount: '0',
  };
  const bad = { external_id: 'RO-c2', version: 'one', type: 'repair', occurred_at: '2026-05-01', vin: VIN };

  it('imports good rows, rejects bad ones with reasons, and a re-import changes nothing', async () => {
    const deps = { corpId: CORP_A, timeZone: 'Asia/Shanghai', pd: h.pd, queues: h.queues, now: () => h.clock.now() };
    const first = await importOutcomeRows(deps, rows([good, bad]));
    expect(first).toMatchObject({ rows: 2, created: 1, matched: 1 });
    expect(first.rejected).toEqual([
      {
        line: 3,
        record: bad,
        problems: expect.arrayContaining([
          expect.stringMatching(/^version: /),
          expect.stringMatching(/^type: use one of/),
        ]),
      },
    ]);
    const again = await importOutcomeRows(deps, rows([good]));
    expect(again).toMatchObject({ rows: 1, created: 0, unchanged: 1 });
  });
});

describe('attribution', () => {
  it('credits an arrival to the follow-up completed before it (last touch), with advisor, rule, lag and value', async () => {
    const ladder = { escalateAfterMs: 1, flagAfterMs: 2 };
    const base = {
      corpId: CORP_A,
      customerId,
      title: '保养邀约',
      dueAt: new Date('2026-04-20T00:00:00Z'),
      slaMs: 1,
      ladder,
      remindAt: new Date('2026-04-20T00:00:00Z'),
      status: 'done' as const,
      category: 'maintenance' as const,
    };
    await TaskModel.create({
      ...base,
      advisorUserid: 'lina',
      outcome: 'contacted',
      completedAt: new Date('2026-04-20T03:00:00Z'),
    });
    const booked = await TaskModel.create({
      ...base,
      advisorUserid: 'zhangwei',
      outcome: 'appointment_booked',
      completedAt: new Date('2026-05-02T03:00:00Z'),
    });
    await TaskModel.create({
      ...base,
      advisorUserid: 'lina',
      outcome: 'contacted',
      completedAt: new Date('2026-03-01T03:00:00Z'),
    }); // outside 30 days
    await deliver(ro());
    const a = await AttributionModel.findOne({}).lean();
    expect(a).toMatchObject({
      organic: false,
      predicted: true,
      touches: 2,
      revenue: 780.5,
      model: 'last_touch',
      touch: { kind: 'task', advisorUserid: 'zhangwei', taskOutcome: 'appointment_booked' },
      firstTouch: { advisorUserid: 'lina' },
    });
    expect(String(a?.touch?.taskId)).toBe(String(booked._id));
    expect(a?.lagMs).toBe(Date.parse('2026-05-08T16:00:00Z') - Date.parse('2026-05-02T03:00:00Z'));
  });

  it('an arrival without a touch in the window is organic', async () => {
    await deliver(ro());
    expect(await AttributionModel.findOne({}).lean()).toMatchObject({ organic: true, predicted: false, touches: 0 });
  });
});

describe('no-shows', () => {
  const ladder = { escalateAfterMs: 1, flagAfterMs: 2 };
  const booking = (completedAt: string) => ({
    corpId: CORP_A,
    customerId,
    title: '保养邀约',
    dueAt: new Date(completedAt),
    slaMs: 1,
    ladder,
    remindAt: new Date(completedAt),
    status: 'done' as const,
    category: 'maintenance' as const,
    advisorUserid: 'zhangwei',
    outcome: 'appointment_booked' as const,
    completedAt: new Date(completedAt),
  });

  it('a booking without an arrival within 14 days becomes a no-show with a follow-up task for the advisor, once', async () => {
    const booked = await TaskModel.create(booking('2026-04-20T03:00:00Z'));
    const first = await detectNoShows({ corpId: CORP_A, now: () => h.clock.now() });
    expect(first).toEqual({ checked: 1, noShows: 1 });
    const noShow = await NoShowModel.findOne({ taskId: booked._id }).lean();
    const task = await TaskModel.findById(noShow?.followUpTaskId).lean();
    expect(task).toMatchObject({
      advisorUserid: 'zhangwei',
      status: 'open',
      title: NO_SHOW_TITLE,
      reason: 'no_show',
      notifyPending: true,
    });
    expect(await detectNoShows({ corpId: CORP_A, now: () => h.clock.now() })).toEqual({ checked: 1, noShows: 0 });
    expect(await TaskModel.countDocuments({ reason: 'no_show' })).toBe(1);
  });

  it('a booking followed by the arrival is no no-show', async () => {
    await TaskModel.create(booking('2026-04-20T03:00:00Z'));
    await deliver(ro({ occurredAt: '2026-04-25' }));
    expect(await detectNoShows({ corpId: CORP_A, now: () => h.clock.now() })).toEqual({ checked: 1, noShows: 0 });
  });
});

describe('holdout campaign report', () => {
  it('compares treated and held-out customers of a rule: rates, revenue per customer, uplift with its interval, not significant on few customers', async () => {
    const ruleId = new MongooseTypes.ObjectId();
    const at = new Date('2026-04-01T02:00:00Z');
    const customers = await CustomerModel.insertMany(
      Array.from({ length: 40 }, (_, i) => ({ corpId: CORP_A, externalUserId: `wmHold${i}` })),
    );
    for (const [i, c] of customers.entries()) {
      const heldOut = isHeldOut(h.pd.hasher, String(ruleId), String(c._id), 0.5);
      await ExecutionModel.create({
        corpId: CORP_A,
        ruleId,
        ruleVersion: 1,
        subject: String(c._id),
        occurrenceId: 'service:x',
        trigger: 'date',
        status: heldOut ? 'skipped' : 'done',
        ...(heldOut ? { reason: HOLDOUT_REASON } : {}),
        createdAt: at,
      });
      // Every treated customer and one held-out customer in four come back within the window.
      if (!heldOut || i % 4 === 0) {
        await OutcomeModel.create({
          corpId: CORP_A,
          source: 'dms',
          externalId: `RO-h${i}`,
          version: 1,
          orderKey: '1',
          type: 'repair_order',
          roType: 'maintenance',
          status: 'active',
          occurredAt: new Date('2026-04-10T02:00:00Z'),
          customerId: c._id,
          matchedBy: 'vin',
          revenue: 100,
          receivedVia: 'api',
          receivedAt: at,
        });
      }
    }
    const res = await server
      .get(`/api/v1/campaigns/${ruleId}/report?corpId=${CORP_A}`)
      .set('authorization', `Bearer ${BOOTSTRAP}`);
    expect(res.status).toBe(200);
    const { treated, heldOut, uplift, verdict } = res.body;
    expect(treated.customers + heldOut.customers).toBe(40);
    expect(heldOut.customers).toBeGreaterThan(5);
    expect(treated.rate).toBe(1);
    expect(treated.revenuePerCustomer).toBe(100);
    expect(heldOut.rate).toBeLessThan(0.6);
    expect(uplift.method).toBe('newcombe-wilson');
    expect(uplift.low).toBeLessThan(uplift.difference);
    expect(verdict).toBe(uplift.significant ? 'uplift' : 'not_significant');
    const bad = await server
      .get(`/api/v1/campaigns/nope/report?corpId=${CORP_A}`)
      .set('authorization', `Bearer ${BOOTSTRAP}`);
    expect(bad.status).toBe(422);
  });
});

describe('result KPIs', () => {
  it('counts return, no-shows, connectable owners and attributed revenue for a range, with definitions', async () => {
    await VehicleModel.create({ corpId: CORP_A, vin: 'LSVAB2180E2100002', source: 'import', salesUserid: 'lina' });
    await deliver(ro());
    const res = await server
      .get(`/api/v1/kpis/outcomes?corpId=${CORP_A}&from=2026-05-01T00:00:00Z&to=2026-05-11T00:00:00Z`)
      .set('authorization', `Bearer ${BOOTSTRAP}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      owners: 1,
      returnRate: 1,
      connectable: { vehicles: 2, connectable: 1, rate: 0.5 },
      revenue: { attributed: 0, organic: 780.5 },
      noShows: { total: 0 },
    });
    expect(res.body.definitions.returnRate).toMatch(/回厂率/);
    const unreachable = await server
      .get(`/api/v1/outcomes/unreachable-owners?corpId=${CORP_A}`)
      .set('authorization', `Bearer ${BOOTSTRAP}`);
    expect(unreachable.body).toEqual({
      total: 1,
      items: [{ vin: 'LSVAB2180E2100002', linked: false, salesUserid: 'lina' }],
    });
  });
});
