import { Types } from 'mongoose';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { customerSnapshot, relationshipSnapshot } from '../../domain/customers/contact-snapshot.js';
import { CorpTagGroupModel } from '../../domain/customers/corp-tag.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { RelationshipModel } from '../../domain/customers/relationship.model.js';
import { DomainEventRecordModel } from '../../domain/events/domain-event-record.model.js';
import { ScheduleModel } from '../../domain/schedules/schedule.model.js';
import { TaskModel } from '../../domain/tasks/task.model.js';
import { VehicleModel } from '../../domain/vehicles/vehicle.model.js';
import { CORP_A, CORP_B, bearer, useApiHarness } from './api.test-support.js';

const h = useApiHarness('customers-api');
const as = bearer;
const HOUR = 3_600_000;
const VIN = 'LVSHCAME0PE100001';

/** A customer written the way the inbound handlers write one (sealed fields, keyed hashes from the same code). */
async function customer(
  corpId: string,
  ext: string,
  name: string,
  follows: Array<{ userid: string; remark?: string; mobiles?: string[]; tags?: string[]; state?: string }>,
) {
  const snap = customerSnapshot(
    { external_userid: ext, name, type: 1 } as Parameters<typeof customerSnapshot>[0],
    h.pd,
    corpId,
  );
  const c = await CustomerModel.create({
    corpId,
    ...snap,
    responsibleUserid: follows[0]?.userid,
    lifecycle: { stage: 'owner', reason: 'vehicle_linked', changedAt: h.clock.now() },
    lifecycleHistory: [{ stage: 'owner', reason: 'vehicle_linked', at: h.clock.now() }],
  });
  for (const f of follows) {
    const rel = relationshipSnapshot(
      {
        userid: f.userid,
        remark: f.remark ?? '',
        description: '',
        remark_mobiles: f.mobiles ?? [],
        createtime: h.clock.nowMs() / 1000 - 86_400,
        add_way: 1,
        state: f.state,
        tag_id: f.tags ?? [],
      } as unknown as Parameters<typeof relationshipSnapshot>[0],
      h.pd,
      { corpId, externalUserId: ext },
    );
    await RelationshipModel.create({ corpId, externalUserId: ext, customerId: c._id, status: 'active', ...rel });
  }
  return String(c._id);
}

let zhao: string;
let qian: string;
let other: string;

beforeAll(async () => {
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
  zhao = await customer(CORP_A, 'wmZhaoCustomer0001', '赵先生', [
    { userid: 'zhangwei', remark: '赵总 星途', mobiles: ['+86 138-0000-0001'], tags: ['tagOwner'], state: 'delivery' },
  ]);
  qian = await customer(CORP_A, 'wmQianCustomer0001', '钱女士', [{ userid: 'chenjing', remark: '钱姐' }]);
  other = await customer(CORP_B, 'wmOtherCorpCust001', '赵先生', [{ userid: 'lisi' }]);
  await VehicleModel.create({
    corpId: CORP_A,
    vin: VIN,
    model: '星途瑶光',
    customerId: new Types.ObjectId(zhao),
    source: 'api',
    deliveryDate: new Date('2026-05-01T00:00:00Z'),
    salesUserid: 'zhangwei',
  });
  const now = h.clock.nowMs();
  await DomainEventRecordModel.create({
    eventId: 'ev1',
    type: 'customer.added',
    corpId: CORP_A,
    sourceId: 's1',
    occurredAt: new Date(now - 48 * HOUR),
    customerId: zhao,
    userid: 'zhangwei',
    data: { state: 'delivery' },
  });
  await TaskModel.create({
    corpId: CORP_A,
    customerId: new Types.ObjectId(zhao),
    advisorUserid: 'zhangwei',
    title: '交车次日回访',
    dueAt: new Date(now - 24 * HOUR),
    slaMs: 24 * HOUR,
    remindAt: new Date(now - 24 * HOUR),
    ladder: { escalateAfterMs: 48 * HOUR, flagAfterMs: 72 * HOUR },
  });
  await ScheduleModel.create({
    key: `k-${zhao}`,
    corpId: CORP_A,
    customerId: new Types.ObjectId(zhao),
    kind: 'follow_up',
    occurrenceId: 'delivery:x',
    dueAt: new Date(now + 150 * 24 * HOUR),
    status: 'planned',
    advisorUserid: 'zhangwei',
    payload: { title: '首保邀约' },
  });
});

/** A term search (POST, the term in the body) or, with `advisor`, the advisor's customers (GET). */
const search = (token: string, query: string) => {
  const params = Object.fromEntries(new URLSearchParams(query));
  return params.advisor !== undefined
    ? request(h.app.callback()).get(`/api/v1/customers?${query}`).set(as(token))
    : request(h.app.callback()).post('/api/v1/customers/search').set(as(token)).send(params);
};

describe('POST /api/v1/customers/search and GET /api/v1/customers?advisor=', () => {
  it('refuses a search term in the URL (names and phones stay out of URLs and access logs)', async () => {
    const admin = await h.token('dealer_admin', [CORP_A]);
    const res = await request(h.app.callback())
      .get(`/api/v1/customers?${new URLSearchParams({ corpId: CORP_A, by: 'phone', q: '13800000001' })}`)
      .set(as(admin))
      .expect(422);
    expect(JSON.stringify(res.body)).toContain('POST /api/v1/customers/search');
  });

  it('finds by exact name, remark, phone (normalised like the stored hashes) and VIN, and audits the search without the term', async () => {
    const admin = await h.token('dealer_admin', [CORP_A]);
    for (const [by, q] of [
      ['name', ' 赵先生 '],
      ['remark', '赵总  星途'],
      ['phone', '13800000001'],
      ['phone', '0086 138 0000 0001'],
      ['vin', VIN.toLowerCase()],
    ] as const) {
      const res = await search(admin, new URLSearchParams({ corpId: CORP_A, by, q }).toString()).expect(200);
      expect(
        res.body.customers.map((c: { id: string }) => c.id),
        `${by} ${q}`,
      ).toEqual([zhao]);
      expect(res.body.customers[0]).toMatchObject({
        displayName: '赵总 星途',
        lifecycle: 'owner',
        responsibleUserid: 'zhangwei',
      });
    }
    // Exact only: a prefix is no match (no substring search over sealed fields).
    expect(
      (await search(admin, new URLSearchParams({ corpId: CORP_A, by: 'name', q: '赵' }).toString()).expect(200)).body
        .customers,
    ).toEqual([]);
    const audit = await AuditEntryModel.findOne({ action: 'customer.search', 'detail.by': 'phone' }).lean();
    expect(audit?.target?.corpId).toBe(CORP_A);
    expect(JSON.stringify(audit)).not.toContain('138');
  });

  it('refuses unusable terms with a message, and other corps', async () => {
    const admin = await h.token('dealer_admin', [CORP_A]);
    const phone = await search(admin, `corpId=${CORP_A}&by=phone&q=138abc`).expect(422);
    expect(phone.body.error.details[0]).toMatchObject({ path: '/q' });
    await search(admin, `corpId=${CORP_A}&by=phone&q=1380000`).expect(422);
    await search(admin, `corpId=${CORP_A}&by=vin&q=LVSHCAME0PE10000`).expect(422);
    await search(admin, `corpId=${CORP_A}&by=email&q=x`).expect(422);
    await search(admin, `corpId=${CORP_B}&by=name&q=赵先生`).expect(403);
    await search(await h.token('admin', []), 'by=name&q=赵先生').expect(422);
    await search(await h.token('marketing', [CORP_A]), `corpId=${CORP_A}&by=name&q=赵先生`).expect(403);
    // The other corp's namesake is never in CORP_A's answer.
    const res = await search(await h.token('admin', []), `corpId=${CORP_A}&by=name&q=赵先生`).expect(200);
    expect(res.body.customers.map((c: { id: string }) => c.id)).not.toContain(other);
  });

  it("shows advisors their own customers only; managers their departments; lists an advisor's customers", async () => {
    const zhang = await h.token('advisor', [CORP_A], 'zhangwei');
    expect(
      (await search(zhang, 'by=name&q=赵先生').expect(200)).body.customers.map((c: { id: string }) => c.id),
    ).toEqual([zhao]);
    expect((await search(zhang, 'by=remark&q=钱姐').expect(200)).body.customers).toEqual([]);
    const manager = await h.token('manager', [CORP_A], 'wangqiang');
    expect((await search(manager, 'by=remark&q=钱姐').expect(200)).body.customers).toEqual([]);
    expect(
      (await search(manager, 'advisor=zhangwei').expect(200)).body.customers.map((c: { id: string }) => c.id),
    ).toEqual([zhao]);
    await search(manager, 'advisor=chenjing').expect(404);
    const admin = await h.token('dealer_admin', [CORP_A]);
    expect(
      (await search(admin, 'advisor=chenjing').expect(200)).body.customers.map((c: { id: string }) => c.id),
    ).toEqual([qian]);
  });
});

describe("GET /api/v1/customers?advisor=&status|lifecycle&from&to (the cockpit's drill-down)", () => {
  it('lists the customers behind the number: a loss-rate cohort, or the new owners, of one advisor over local days', async () => {
    const admin = await h.token('dealer_admin', [CORP_A]);
    const local = (iso: string) => new Date(`${iso}+08:00`);
    const mk = async (ext: string, rel: { addedAt: string; lostAt?: string }, ownerAt?: string) => {
      const c = await CustomerModel.create({
        corpId: CORP_A,
        externalUserId: ext,
        responsibleUserid: 'zhangwei',
        ...(ownerAt
          ? {
              lifecycle: { stage: 'owner', reason: 'vehicle_linked', changedAt: local(ownerAt) },
              lifecycleHistory: [{ stage: 'owner', reason: 'vehicle_linked', at: local(ownerAt) }],
            }
          : {}),
      });
      await RelationshipModel.create({
        corpId: CORP_A,
        externalUserId: ext,
        customerId: c._id,
        userid: 'zhangwei',
        addedAt: local(rel.addedAt),
        status: rel.lostAt ? 'deleted_by_customer' : 'active',
        ...(rel.lostAt ? { statusChangedAt: local(rel.lostAt) } : {}),
      });
      return String(c._id);
    };
    const lostSoon = await mk('wmDrillLost0001', { addedAt: '2026-03-02T10:00:00', lostAt: '2026-03-12T10:00:00' });
    await mk('wmDrillLate0001', { addedAt: '2026-03-03T10:00:00', lostAt: '2026-04-20T10:00:00' }); // lost after 30 days: not in the loss rate
    await mk('wmDrillEarly001', { addedAt: '2026-03-01T23:30:00', lostAt: '2026-03-05T10:00:00' }); // added the day before the range
    const owner = await mk('wmDrillOwner001', { addedAt: '2026-02-01T10:00:00' }, '2026-03-08T23:00:00');
    await mk('wmDrillOwner002', { addedAt: '2026-02-01T10:00:00' }, '2026-03-09T00:30:00'); // the day after the range
    const list = (query: Record<string, string>) =>
      request(h.app.callback())
        .get(
          `/api/v1/customers?${new URLSearchParams({ corpId: CORP_A, advisor: 'zhangwei', from: '2026-03-02', to: '2026-03-08', ...query })}`,
        )
        .set(as(admin));
    expect((await list({ status: 'lost' }).expect(200)).body.customers.map((c: { id: string }) => c.id)).toEqual([
      lostSoon,
    ]);
    expect((await list({ lifecycle: 'owner' }).expect(200)).body.customers.map((c: { id: string }) => c.id)).toEqual([
      owner,
    ]);
    const bad = await request(h.app.callback())
      .get(
        `/api/v1/customers?${new URLSearchParams({ corpId: CORP_A, advisor: 'zhangwei', status: 'lost', from: '2026-03-02' })}`,
      )
      .set(as(admin))
      .expect(422);
    expect(JSON.stringify(bad.body)).toContain('give from and to');
    // The dealer's loss-rate flag drills down to the whole corp's cohort.
    expect(
      (
        await request(h.app.callback())
          .get(
            `/api/v1/customers?${new URLSearchParams({ corpId: CORP_A, status: 'lost', from: '2026-03-02', to: '2026-03-08' })}`,
          )
          .set(as(admin))
          .expect(200)
      ).body.customers.map((c: { id: string }) => c.id),
    ).toEqual([lostSoon]);
  });
});

describe('GET /api/v1/customers/:id', () => {
  it('answers the profile with relationships, tags, vehicles and lifecycle reasons, and writes an audit record', async () => {
    const zhang = await h.token('advisor', [CORP_A], 'zhangwei');
    const before = await AuditEntryModel.countDocuments({ action: 'customer.read', 'target.id': zhao });
    const res = await request(h.app.callback()).get(`/api/v1/customers/${zhao}`).set(as(zhang)).expect(200);
    expect(res.body).toMatchObject({
      id: zhao,
      name: '赵先生',
      displayName: '赵总 星途',
      lifecycle: { stage: 'owner', reason: 'vehicle_linked' },
      responsible: { userid: 'zhangwei', name: '张伟' },
    });
    expect(res.body.relationships[0]).toMatchObject({
      userid: 'zhangwei',
      advisorName: '张伟',
      state: 'delivery',
      status: 'active',
      tags: [{ id: 'tagOwner', name: '保客' }],
    });
    expect(res.body.vehicles[0]).toMatchObject({ vin: VIN, model: '星途瑶光' });
    expect(res.body.lifecycleHistory[0]).toMatchObject({ stage: 'owner', reason: 'vehicle_linked' });
    expect(
      await AuditEntryModel.countDocuments({ action: 'customer.read', 'target.id': zhao, 'actor.userid': 'zhangwei' }),
    ).toBe(before + 1);
  });

  it("is a 404 for another advisor's customer, another corp's customer and a malformed id", async () => {
    const zhang = await h.token('advisor', [CORP_A], 'zhangwei');
    await request(h.app.callback()).get(`/api/v1/customers/${qian}`).set(as(zhang)).expect(404);
    await request(h.app.callback())
      .get(`/api/v1/customers/${other}`)
      .set(as(await h.token('dealer_admin', [CORP_A])))
      .expect(404);
    await request(h.app.callback()).get('/api/v1/customers/not-an-id').set(as(zhang)).expect(404);
    await request(h.app.callback()).get(`/api/v1/customers/${qian}/timeline`).set(as(zhang)).expect(404);
    expect(await AuditEntryModel.countDocuments({ action: 'customer.read', 'target.id': qian })).toBe(0);
  });

  it('tells the story newest first: the planned follow-up on top, then the task and the add event', async () => {
    const manager = await h.token('manager', [CORP_A], 'wangqiang');
    const res = await request(h.app.callback()).get(`/api/v1/customers/${zhao}/timeline`).set(as(manager)).expect(200);
    expect(res.body.items.map((i: { kind: string; type: string }) => `${i.kind}:${i.type}`)).toEqual([
      'schedule:planned',
      'task:open',
      'event:customer.added',
    ]);
    expect(res.body.items[0]).toMatchObject({ title: '首保邀约', userid: 'zhangwei' });
    await request(h.app.callback()).get(`/api/v1/customers/${zhao}/timeline?limit=1000`).set(as(manager)).expect(422);
    expect(
      (await request(h.app.callback()).get(`/api/v1/customers/${zhao}/timeline?limit=1`).set(as(manager)).expect(200))
        .body.items,
    ).toHaveLength(1);
  });
});
