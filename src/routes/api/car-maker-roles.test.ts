import { Types } from 'mongoose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { RuleModel } from '../../domain/rules/rule.model.js';
import { TaskModel } from '../../domain/tasks/task.model.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { BOOTSTRAP, CORP_A, CORP_B, startApiHarness } from './api.test-support.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startApiHarness>>;
const as = (token: string) => ({ Authorization: `Bearer ${token}` });
const api = () => request(h.app.callback());
const HOUR = 3_600_000;

const allCorpsRule = (name = '全网首保') => ({
  name,
  scope: 'all',
  enabled: true,
  trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
  actions: [{ type: 'tag', add: [{ group: '客户阶段', name: '保客' }] }],
});

beforeAll(async () => {
  db = await useTestDatabase('car-maker-roles');
  h = await startApiHarness();
  await AdvisorModel.create([
    { corpId: CORP_A, userid: 'zhangwei', departments: [2] },
    { corpId: CORP_B, userid: 'bob', departments: [2] },
  ]);
});
afterAll(async () => {
  await h?.close();
  await db?.drop();
});

describe("the car maker's analyst", () => {
  it('reads KPIs of every dealer but no customer, task, transfer or rule content', async () => {
    const analyst = await h.token('analyst');
    const customer = await CustomerModel.create({ corpId: CORP_A, externalUserId: 'wmAnalystSees0' });
    const dueAt = new Date('2026-05-11T02:00:00Z');
    const task = await TaskModel.create({
      corpId: CORP_A,
      customerId: customer._id,
      advisorUserid: 'zhangwei',
      title: '回访',
      dueAt,
      slaMs: 24 * HOUR,
      remindAt: dueAt,
      ladder: { escalateAfterMs: 48 * HOUR, flagAfterMs: 72 * HOUR },
      history: [{ at: dueAt, actor: 'system', action: 'created' }],
    });
    const overview = await api()
      .get('/api/v1/kpis/overview?from=2026-05-04&to=2026-05-11&groupBy=corp')
      .set(as(analyst))
      .expect(200);
    expect(overview.body).toHaveProperty('rows');
    await api().get('/api/v1/kpis/definitions').set(as(analyst)).expect(200);
    await api()
      .get(`/api/v1/kpis/tasks?corpId=${CORP_B}&from=2026-05-04T00:00:00Z&to=2026-05-11T00:00:00Z`)
      .set(as(analyst))
      .expect(200);
    for (const [method, path] of [
      ['get', '/api/v1/tasks'],
      ['get', `/api/v1/tasks/${String(task._id)}`],
      ['get', '/api/v1/tasks.csv'],
      ['get', `/api/v1/customers/${String(customer._id)}`],
      ['get', `/api/v1/customers?corpId=${CORP_A}&advisor=zhangwei`],
      ['post', '/api/v1/customers/search'],
      ['get', '/api/v1/transfers'],
      ['get', '/api/v1/advisors'],
      ['get', '/api/v1/rules'],
      ['post', '/api/v1/rules'],
      ['get', `/api/v1/corps/${CORP_A}/settings`],
    ] as const) {
      const res = await api()[method](path).set(as(analyst)).send({});
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(JSON.stringify(res.body)).not.toContain('wmAnalystSees0');
    }
  });

  it('is created like other all-corps tokens: without corps', async () => {
    const res = await api()
      .post('/api/v1/tokens')
      .set(as(BOOTSTRAP))
      .send({ role: 'analyst', corps: [CORP_A] })
      .expect(422);
    expect(JSON.stringify(res.body)).toContain('corps empty');
    await api().post('/api/v1/tokens').set(as(BOOTSTRAP)).send({ role: 'analyst', label: 'kpi dashboard' }).expect(201);
  });

  it("is granted in the car maker's corp only: a dealer corp refuses oem and analyst lists", async () => {
    const current = (await api().get(`/api/v1/corps/${CORP_A}/settings`).set(as(BOOTSTRAP)).expect(200)).body;
    const res = await api()
      .patch(`/api/v1/corps/${CORP_A}/settings`)
      .set(as(BOOTSTRAP))
      .send({ consoleRoles: { ...current.consoleRoles, analysts: ['ana.wu'] } })
      .expect(422);
    expect(res.body.error.details).toEqual([
      { path: '/consoleRoles/analysts', message: expect.stringContaining("car maker's corp") },
    ]);
  });
});

describe('four eyes on all-corps rules', () => {
  it('regression: an all-corps rule starts disabled; its author cannot enable it; a second person can, and both are recorded', async () => {
    const author = await h.token('oem', [], 'oem.li');
    const authorAgain = await h.token('oem', [], 'oem.li');
    const second = await h.token('oem', [], 'oem.wang');
    const created = await api().post('/api/v1/rules').set(as(author)).send(allCorpsRule()).expect(201);
    expect(created.body).toMatchObject({ enabled: false, enableProposal: { by: 'user:oem.li', version: 1 } });
    const id = created.body.id as string;

    // The same person, even with another token, cannot approve their own proposal.
    const self = await api().post(`/api/v1/rules/${id}/enable`).set(as(authorAgain)).expect(409);
    expect(self.body.error.code).toBe('four_eyes_required');
    expect((await RuleModel.findById(id).lean())?.enabled).toBe(false);

    const approved = await api().post(`/api/v1/rules/${id}/enable`).set(as(second)).expect(200);
    expect(approved.body).toMatchObject({
      enabled: true,
      enableApproval: { proposedBy: 'user:oem.li', approvedBy: 'user:oem.wang', version: 1 },
    });
    expect(approved.body.enableProposal).toBeUndefined();
    const audit = await AuditEntryModel.find({ 'target.id': id }).sort({ at: 1, _id: 1 }).lean();
    expect(audit.map((a) => a.action)).toEqual(['rule.create', 'rule.enable_propose', 'rule.enable']);
    expect(audit[2]?.detail).toMatchObject({ proposedBy: 'user:oem.li', approvedBy: 'user:oem.wang' });
  });

  it('a new version of a live all-corps rule pauses until someone else approves it; disabling needs no second person', async () => {
    const author = await h.token('oem', [], 'oem.zhou');
    const id = (await api().post('/api/v1/rules').set(as(author)).send(allCorpsRule('全网保养')).expect(201)).body
      .id as string;
    await api().post(`/api/v1/rules/${id}/enable`).set(as(BOOTSTRAP)).expect(200);
    const edited = await api()
      .put(`/api/v1/rules/${id}`)
      .set(as(author))
      .send({ ...allCorpsRule('全网保养 v2'), enabled: undefined })
      .expect(200);
    expect(edited.body).toMatchObject({
      version: 2,
      enabled: false,
      enableProposal: { by: 'user:oem.zhou', version: 2 },
    });
    await api().post(`/api/v1/rules/${id}/enable`).set(as(author)).expect(409);
    await api().post(`/api/v1/rules/${id}/enable`).set(as(BOOTSTRAP)).expect(200);
    const off = await api().post(`/api/v1/rules/${id}/disable`).set(as(author)).expect(200);
    expect(off.body.enabled).toBe(false);
    // A first request to enable after that is a proposal again (202), not a switch-on.
    const proposed = await api().post(`/api/v1/rules/${id}/enable`).set(as(author)).expect(202);
    expect(proposed.body).toMatchObject({ enabled: false, enableProposal: { by: 'user:oem.zhou' } });
  });

  it("leaves a dealer's own switch for an all-corps rule and corp rules as they were", async () => {
    const marketing = await h.token('marketing', [CORP_A]);
    const corpRule = await api()
      .post('/api/v1/rules')
      .set(as(marketing))
      .send({ ...allCorpsRule('本店'), scope: CORP_A })
      .expect(201);
    expect(corpRule.body.enabled).toBe(true);
    const id = (await api().post('/api/v1/rules').set(as(BOOTSTRAP)).send(allCorpsRule('全网欢迎')).expect(201)).body
      .id as string;
    const dealerOff = await api()
      .post(`/api/v1/rules/${id}/disable`)
      .set(as(await h.token('dealer_admin', [CORP_A])))
      .expect(200);
    expect(dealerOff.body).toMatchObject({ enabled: false, disabledCorps: [CORP_A] });
    expect(Types.ObjectId.isValid(id)).toBe(true);
  });
});
