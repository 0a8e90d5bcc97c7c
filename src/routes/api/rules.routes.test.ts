import { Types } from 'mongoose';
import request from 'supertest';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { CorpModel } from '../../domain/corps/corp.model.js';
import { CorpTagGroupModel } from '../../domain/customers/corp-tag.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { RelationshipModel } from '../../domain/customers/relationship.model.js';
import { ExecutionModel } from '../../domain/rules/engine/execution.model.js';
import { RuleModel, RuleVersionModel } from '../../domain/rules/rule.model.js';
import { VehicleModel } from '../../domain/vehicles/vehicle.model.js';
import { BOOTSTRAP, CORP_A, CORP_B, bearer, startApiHarness, useApiHarness } from './api.test-support.js';

const h = useApiHarness('rules-api');
let marketingA: string;
let marketingB: string;
let oem: string;
let advisorA: string;

const delivery = (scope: string, enabled?: boolean) => ({
  name: '交车欢迎',
  scope,
  ...(enabled === undefined ? {} : { enabled }),
  trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
  actions: [
    { type: 'welcome', text: '欢迎成为车主' },
    { type: 'tag', add: [{ group: '客户阶段', name: '保客' }] },
  ],
});
const firstService = (scope: string) => ({
  name: '首保邀约',
  scope,
  trigger: { type: 'date', field: 'deliveryDate', offset: '+150d at 10:00' },
  conditions: { lifecycle: ['owner'] },
  actions: [{ type: 'follow_up', title: '首保邀约', talkTrack: '您好，首保时间快到了', sla: '48h' }],
});

beforeAll(async () => {
  marketingA = await h.token('marketing', [CORP_A]);
  marketingB = await h.token('marketing', [CORP_B]);
  oem = await h.token('oem');
  advisorA = await h.token('advisor', [CORP_A], 'zhangwei');
});
beforeEach(async () => {
  await Promise.all([RuleModel.deleteMany({}), RuleVersionModel.deleteMany({}), AuditEntryModel.deleteMany({})]);
});

const as = bearer;

describe('rules API', () => {
  it('creates, versions on update, and shows the history; every change is audited without content', async () => {
    const created = await request(h.app.callback())
      .post('/api/v1/rules')
      .set(as(marketingA))
      .send(delivery(CORP_A, true))
      .expect(201);
    expect(created.body).toMatchObject({ version: 1, enabled: true, scope: CORP_A });
    const id = created.body.id as string;
    const changed = { ...delivery(CORP_A), name: '交车欢迎 v2' };
    await request(h.app.callback())
      .put(`/api/v1/rules/${id}`)
      .set(as(marketingA))
      .set('If-Match', '1')
      .send(changed)
      .expect(200);
    await request(h.app.callback())
      .put(`/api/v1/rules/${id}`)
      .set(as(marketingA))
      .set('If-Match', '1')
      .send(changed)
      .expect(409);
    const got = await request(h.app.callback()).get(`/api/v1/rules/${id}`).set(as(marketingA)).expect(200);
    expect(got.body.version).toBe(2);
    expect(got.body.versions.map((v: { version: number; change: string }) => `${v.version}:${v.change}`)).toEqual([
      '2:updated',
      '1:created enabled',
    ]);
    const audit = await request(h.app.callback()).get('/api/v1/audit').set(as(BOOTSTRAP)).expect(200);
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual(['rule.update', 'rule.create']);
    expect(JSON.stringify(audit.body)).not.toContain('欢迎成为车主');
  });

  it('answers 422 with { path, message } a marketing person can act on', async () => {
    const res = await request(h.app.callback())
      .post('/api/v1/rules')
      .set(as(marketingA))
      .send({
        ...firstService(CORP_A),
        actions: [
          { type: 'tag', add: [{ group: 'g', name: 'n' }] },
          { type: 'follow_up', title: 't', dueIn: 'tomorrow' },
        ],
      })
      .expect(422);
    expect(res.body.error.details).toEqual([
      { path: 'actions[1].dueIn', message: 'use a duration like 3d or 48h (d = days, h = hours, m = minutes)' },
    ]);
  });

  it("keeps corps apart: B cannot see, change or preview A's rules; marketing cannot author all-corps rules", async () => {
    const id = (
      await request(h.app.callback()).post('/api/v1/rules').set(as(marketingA)).send(delivery(CORP_A)).expect(201)
    ).body.id as string;
    await request(h.app.callback()).get(`/api/v1/rules/${id}`).set(as(marketingB)).expect(404);
    await request(h.app.callback()).put(`/api/v1/rules/${id}`).set(as(marketingB)).send(delivery(CORP_B)).expect(404);
    await request(h.app.callback()).post(`/api/v1/rules/${id}/disable`).set(as(marketingB)).expect(404);
    await request(h.app.callback()).delete(`/api/v1/rules/${id}`).set(as(marketingB)).expect(404);
    await request(h.app.callback()).post(`/api/v1/rules/${id}/preview`).set(as(marketingB)).expect(404);
    await request(h.app.callback()).post('/api/v1/rules').set(as(marketingB)).send(delivery(CORP_A)).expect(403);
    await request(h.app.callback()).post('/api/v1/rules').set(as(marketingA)).send(delivery('all')).expect(403);
    expect((await request(h.app.callback()).get('/api/v1/rules').set(as(marketingB)).expect(200)).body.rules).toEqual(
      [],
    );
    await request(h.app.callback()).get('/api/v1/rules').set(as(advisorA)).expect(403);
    await request(h.app.callback()).get('/api/v1/rules').expect(401);
    await request(h.app.callback())
      .get('/api/v1/rules')
      .set(as('scrm_nosuchtoken0_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'))
      .expect(401);
  });

  it('lets a corp switch off an all-corps rule for itself only, and lists by scope and enabled', async () => {
    const id = (
      await request(h.app.callback()).post('/api/v1/rules').set(as(oem)).send(delivery('all', true)).expect(201)
    ).body.id as string;
    // All-corps rules start disabled; a second person switches them on (four eyes).
    await request(h.app.callback()).post(`/api/v1/rules/${id}/enable`).set(as(BOOTSTRAP)).expect(200);
    const off = await request(h.app.callback()).post(`/api/v1/rules/${id}/disable`).set(as(marketingA)).expect(200);
    expect(off.body).toMatchObject({ enabled: true, disabledCorps: [CORP_A] });
    const listed = await request(h.app.callback())
      .get('/api/v1/rules?scope=all&enabled=true')
      .set(as(marketingB))
      .expect(200);
    expect(listed.body.rules.map((r: { id: string }) => r.id)).toEqual([id]);
    await request(h.app.callback()).delete(`/api/v1/rules/${id}`).set(as(oem)).expect(204);
    expect((await request(h.app.callback()).get('/api/v1/rules').set(as(oem)).expect(200)).body.rules).toEqual([]);
  });

  it("previews matches and one example customer's actions with times, doing nothing", async () => {
    const owner = await CustomerModel.create({
      corpId: CORP_A,
      externalUserId: 'wmOwner1',
      lifecycle: { stage: 'owner', reason: 'vehicle_linked' },
      responsibleUserid: 'zhangwei',
    });
    await CustomerModel.create({
      corpId: CORP_A,
      externalUserId: 'wmProspect',
      lifecycle: { stage: 'prospect', reason: 'added' },
    });
    await VehicleModel.create({
      corpId: CORP_A,
      vin: 'LSVAB2180E2000001',
      customerId: owner._id,
      deliveryDate: new Date('2026-04-29T16:00:00Z'),
      source: 'api',
    });
    const res = await request(h.app.callback())
      .post('/api/v1/rules/preview')
      .set(as(marketingA))
      .send(firstService(CORP_A))
      .expect(200);
    expect(res.body).toMatchObject({
      corpId: CORP_A,
      matching: 1,
      exact: true,
      example: {
        customerId: String(owner._id),
        actions: [{ index: 0, type: 'follow_up', when: '2026-09-27T02:00:00.000Z' }],
      },
    });
    expect(await RuleModel.countDocuments({})).toBe(0);
    await request(h.app.callback()).post('/api/v1/rules/preview').set(as(oem)).send(firstService('all')).expect(422);
  });

  it("previews a customer message moved out of the corp's quiet hours, unless the rule switched them off", async () => {
    const owner = await CustomerModel.create({
      corpId: CORP_A,
      externalUserId: 'wmOwnerQuiet',
      lifecycle: { stage: 'owner', reason: 'vehicle_linked' },
      responsibleUserid: 'zhangwei',
    });
    await VehicleModel.create({
      corpId: CORP_A,
      vin: 'LSVAB2180E2000002',
      customerId: owner._id,
      deliveryDate: new Date('2026-04-29T16:00:00Z'),
      source: 'api',
    });
    await CorpModel.updateOne(
      { corpId: CORP_A },
      { $set: { tasks: { quietHours: { start: '21:00', end: '10:30' } } } },
    );
    try {
      const evening = {
        name: '夜间关怀',
        scope: CORP_A,
        trigger: { type: 'date', field: 'deliveryDate', offset: '+150d at 22:00' },
        conditions: { lifecycle: ['owner'] },
        actions: [{ type: 'message_customer', text: '您好' }],
      };
      const corpQuiet = await request(h.app.callback())
        .post('/api/v1/rules/preview')
        .set(as(marketingA))
        .send(evening)
        .expect(200);
      expect(corpQuiet.body.example.actions).toEqual([
        expect.objectContaining({ type: 'message_customer', when: '2026-09-28T02:30:00.000Z' }),
      ]);
      const allDay = await request(h.app.callback())
        .post('/api/v1/rules/preview')
        .set(as(marketingA))
        .send({ ...evening, guards: { quietHours: null } })
        .expect(200);
      expect(allDay.body.example.actions).toEqual([
        expect.objectContaining({ type: 'message_customer', when: '2026-09-27T14:00:00.000Z' }),
      ]);
    } finally {
      await CorpModel.updateOne({ corpId: CORP_A }, { $unset: { tasks: 1 } });
    }
  });
});

describe('rules API for the console', () => {
  beforeEach(async () => {
    await Promise.all([
      ExecutionModel.deleteMany({}),
      CorpTagGroupModel.deleteMany({}),
      RelationshipModel.deleteMany({}),
      VehicleModel.deleteMany({}),
      CustomerModel.deleteMany({}),
    ]);
  });

  it("lists customers reached this month per rule: this month in the dealer's zone, not skipped, only the caller's corps, each customer once", async () => {
    const mine = (
      await request(h.app.callback()).post('/api/v1/rules').set(as(marketingA)).send(delivery(CORP_A)).expect(201)
    ).body.id as string;
    const oemRule = (
      await request(h.app.callback()).post('/api/v1/rules').set(as(oem)).send(firstService('all')).expect(201)
    ).body.id as string;
    const exec = (ruleId: string, corpId: string, createdAt: string, status = 'done', n = 0, subject = `c${n}`) => ({
      ruleId: new Types.ObjectId(ruleId),
      subject,
      occurrenceId: `o${n}`,
      corpId,
      ruleVersion: 1,
      trigger: 't',
      status,
      actions: [],
      createdAt: new Date(createdAt),
      updatedAt: new Date(createdAt),
    });
    // The harness clock is 2026-05-10 10:00 Shanghai; May starts 2026-04-30T16:00Z there.
    await ExecutionModel.collection.insertMany([
      exec(mine, CORP_A, '2026-04-30T16:30:00Z', 'done', 1),
      exec(mine, CORP_A, '2026-05-09T00:00:00Z', 'running', 2),
      exec(mine, CORP_A, '2026-04-30T15:00:00Z', 'done', 3),
      exec(mine, CORP_A, '2026-05-02T00:00:00Z', 'skipped', 4),
      exec(oemRule, CORP_A, '2026-05-02T00:00:00Z', 'done', 5),
      exec(oemRule, CORP_B, '2026-05-02T00:00:00Z', 'done', 6),
      exec(oemRule, CORP_B, '2026-05-03T00:00:00Z', 'done', 7),
      // The same customer reached again by the same rule (another occurrence) is still one customer.
      exec(mine, CORP_A, '2026-05-09T01:00:00Z', 'done', 8, 'c2'),
    ]);
    const hits = async (token: string) =>
      Object.fromEntries(
        (await request(h.app.callback()).get('/api/v1/rules').set(as(token)).expect(200)).body.rules.map(
          (r: { id: string; hitsThisMonth: number }) => [r.id, r.hitsThisMonth],
        ),
      );
    expect(await hits(marketingA)).toEqual({ [mine]: 2, [oemRule]: 1 });
    expect(await hits(marketingB)).toEqual({ [oemRule]: 2 });
    expect(await hits(oem)).toEqual({ [mine]: 2, [oemRule]: 3 });
  });

  it("offers picker data from the corp's own tags, channel states and models, scoped to the caller's corps", async () => {
    await CorpTagGroupModel.create({
      corpId: CORP_A,
      groupId: 'g1',
      groupName: '客户阶段',
      tags: [
        { id: 't1', name: '保客' },
        { id: 't2', name: '意向' },
      ],
    });
    await CorpTagGroupModel.create({
      corpId: CORP_B,
      groupId: 'g9',
      groupName: 'B组',
      tags: [{ id: 't9', name: 'B标签' }],
    });
    const customer = await CustomerModel.create({
      corpId: CORP_A,
      externalUserId: 'wmOpt1',
      lifecycle: { stage: 'owner', reason: 'added' },
    });
    await RelationshipModel.create([
      {
        corpId: CORP_A,
        userid: 'zhangwei',
        externalUserId: 'wmOpt1',
        customerId: customer._id,
        state: 'delivery_0501',
      },
      { corpId: CORP_A, userid: 'lina', externalUserId: 'wmOpt1', customerId: customer._id, state: 'delivery_0501' },
      { corpId: CORP_A, userid: 'wangqiang', externalUserId: 'wmOpt1', customerId: customer._id },
      { corpId: CORP_B, userid: 'zhangwei', externalUserId: 'wmOpt1', customerId: customer._id, state: 'b_only' },
    ]);
    await VehicleModel.create({
      corpId: CORP_A,
      vin: 'LSVAB2180E2000002',
      customerId: customer._id,
      model: '星途 L',
      source: 'api',
    });

    const res = await request(h.app.callback()).get('/api/v1/rules/options').set(as(marketingA)).expect(200);
    expect(res.body).toMatchObject({
      corpId: CORP_A,
      corps: [{ corpId: CORP_A, writable: true }],
      dateFields: ['deliveryDate', 'insuranceExpiry', 'lastServiceDate', 'birthday'],
      tags: [
        { group: '客户阶段', name: '保客' },
        { group: '客户阶段', name: '意向' },
      ],
      channelStates: ['delivery_0501'],
      deliveryStatePrefixes: ['delivery'],
      vehicleModels: ['星途 L'],
    });
    await request(h.app.callback()).get(`/api/v1/rules/options?corpId=${CORP_B}`).set(as(marketingA)).expect(404);
    await request(h.app.callback()).get('/api/v1/rules/options?corpId=not%20a%20corp').set(as(marketingA)).expect(422);
    await request(h.app.callback()).get('/api/v1/rules/options').set(as(advisorA)).expect(403);
    const forOem = await request(h.app.callback()).get('/api/v1/rules/options').set(as(oem)).expect(200);
    expect(
      forOem.body.corps.map((c: { corpId: string; writable: boolean }) => `${c.corpId}:${c.writable}`).sort(),
    ).toEqual([`${CORP_A}:true`, `${CORP_B}:true`]);
    expect(forOem.body.tags).toEqual([]);
    expect(
      (await request(h.app.callback()).get(`/api/v1/rules/options?corpId=${CORP_B}`).set(as(oem)).expect(200)).body
        .channelStates,
    ).toEqual(['b_only']);
  });

  it('lists versions newest first, and keeps other corps out', async () => {
    const id = (
      await request(h.app.callback()).post('/api/v1/rules').set(as(marketingA)).send(delivery(CORP_A)).expect(201)
    ).body.id as string;
    await request(h.app.callback())
      .put(`/api/v1/rules/${id}`)
      .set(as(marketingA))
      .send({ ...delivery(CORP_A), name: '交车欢迎 v2' })
      .expect(200);
    const res = await request(h.app.callback()).get(`/api/v1/rules/${id}/versions`).set(as(marketingA)).expect(200);
    expect(
      res.body.versions.map(
        (v: { version: number; change: string; body: { name: string } }) => `${v.version}:${v.change}:${v.body.name}`,
      ),
    ).toEqual(['2:updated:交车欢迎 v2', '1:created:交车欢迎']);
    await request(h.app.callback()).get(`/api/v1/rules/${id}/versions`).set(as(marketingB)).expect(404);
    await request(h.app.callback()).get('/api/v1/rules/nonsense/versions').set(as(marketingA)).expect(404);
  });

  it('duplicates into another corp as a disabled version 1 with warnings for what that corp lacks; audited', async () => {
    await CorpTagGroupModel.create({
      corpId: CORP_B,
      groupId: 'gB',
      groupName: '客户阶段',
      tags: [{ id: 'tB', name: '意向' }],
    });
    const rule = {
      ...delivery(CORP_A, true),
      name: '交车欢迎',
      conditions: { channel: { prefix: 'vip' } },
      actions: [
        { type: 'welcome', text: '欢迎成为车主' },
        { type: 'tag', add: [{ group: '客户阶段', name: '保客' }], remove: [{ group: '客户阶段', name: '意向' }] },
      ],
    };
    const id = (await request(h.app.callback()).post('/api/v1/rules').set(as(oem)).send(rule).expect(201)).body
      .id as string;
    const res = await request(h.app.callback())
      .post(`/api/v1/rules/${id}/duplicate`)
      .set(as(oem))
      .send({ corpId: CORP_B })
      .expect(201);
    expect(res.body.rule).toMatchObject({ scope: CORP_B, enabled: false, version: 1, name: '交车欢迎' });
    expect(res.body.rule.id).not.toBe(id);
    // delivery* is CORP_B's delivery prefix (default settings), so only vip is unknown; 意向 exists in B, 保客 will be created.
    expect(res.body.warnings.map((w: { path: string }) => w.path)).toEqual(['conditions.channel', 'actions[1].add[0]']);
    const versions = await request(h.app.callback())
      .get(`/api/v1/rules/${res.body.rule.id as string}/versions`)
      .set(as(oem))
      .expect(200);
    expect(versions.body.versions[0].change).toBe(`duplicated from ${id} v1`);
    const audit = await AuditEntryModel.findOne({ action: 'rule.duplicate' }).lean();
    expect(audit?.target).toMatchObject({ id: res.body.rule.id, corpId: CORP_B });
  });

  it("refuses duplicates across dealers: B cannot read A's rule, A cannot write into B, bad bodies are 422", async () => {
    const id = (
      await request(h.app.callback()).post('/api/v1/rules').set(as(marketingA)).send(delivery(CORP_A)).expect(201)
    ).body.id as string;
    await request(h.app.callback())
      .post(`/api/v1/rules/${id}/duplicate`)
      .set(as(marketingB))
      .send({ corpId: CORP_B })
      .expect(404);
    const forbidden = await request(h.app.callback())
      .post(`/api/v1/rules/${id}/duplicate`)
      .set(as(marketingA))
      .send({ corpId: CORP_B })
      .expect(403);
    expect(forbidden.body.error.code).toBe('corp_forbidden');
    await request(h.app.callback()).post(`/api/v1/rules/${id}/duplicate`).set(as(marketingA)).send({}).expect(422);
    await request(h.app.callback())
      .post(`/api/v1/rules/${id}/duplicate`)
      .set(as(marketingA))
      .send({ corpId: CORP_A, extra: 1 })
      .expect(422);
    await request(h.app.callback())
      .post(`/api/v1/rules/${id}/duplicate`)
      .set(as(oem))
      .send({ corpId: 'wwNoSuchCorp' })
      .expect(422);
    await request(h.app.callback())
      .post(`/api/v1/rules/${id}/duplicate`)
      .set(as(advisorA))
      .send({ corpId: CORP_A })
      .expect(403);
    const copy = await request(h.app.callback())
      .post(`/api/v1/rules/${id}/duplicate`)
      .set(as(marketingA))
      .send({ corpId: CORP_A })
      .expect(201);
    expect(copy.body.rule).toMatchObject({ scope: CORP_A, enabled: false, version: 1 });
    expect(await RuleModel.countDocuments({ scope: CORP_B })).toBe(0);
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
