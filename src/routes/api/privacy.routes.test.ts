/**
 * Personal-data rights (docs/data-inventory.md) through the admin API on the dev MongoDB and
 * real Redis: erasure, export, opt-out (roles, corp scoping, audit) and the retention sweep with a manual clock.
 */
import { Types } from 'mongoose';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { customerCtx, relationshipCtx } from '../../domain/customers/personal-data.js';
import { RelationshipModel } from '../../domain/customers/relationship.model.js';
import { DomainEventRecordModel } from '../../domain/events/domain-event-record.model.js';
import { MessageBatchModel, MessageRecipientModel } from '../../domain/messages/message.model.js';
import { exportedFieldName, EXPORTED_COLLECTIONS, HASH_PLACEHOLDER } from '../../domain/privacy/export.service.js';
import { readInventory } from '../../domain/privacy/inventory.js';
import { runRetentionSweep } from '../../domain/privacy/retention-sweep.js';
import { ScheduleModel } from '../../domain/schedules/schedule.model.js';
import { TaskModel } from '../../domain/tasks/task.model.js';
import { VehicleModel } from '../../domain/vehicles/vehicle.model.js';
import { QueueName } from '../../queues/queue-names.js';
import { CORP_A, CORP_B, bearer, useApiHarness } from './api.test-support.js';

const h = useApiHarness('privacy-api');
const as = bearer;
const DAY = 86_400_000;

let seq = 0;
/** A customer of `corpId` with every kind of personal data the bot stores, and what hangs off it. */
async function seedCustomer(
  corpId: string,
  opts: { name: string; mobile: string; advisor?: string; endedDaysAgo?: number; active?: boolean },
) {
  seq++;
  const ext = `wmPriv${seq}${Date.now().toString(36)}`;
  const now = h.clock.now();
  const at = { corpId, externalUserId: ext };
  const name = h.pd.sealSearchableFor(customerCtx(at, 'nameEnc'), 'name', opts.name);
  const customer = await CustomerModel.create({
    corpId,
    externalUserId: ext,
    nameEnc: name.enc,
    nameHash: name.hash,
    unionidEnc: h.pd.sealFor(customerCtx(at, 'unionidEnc'), `unionid-${opts.name}`),
    unionidHash: h.pd.hash('unionid', `unionid-${opts.name}`),
    birthdayEnc: h.pd.sealFor(customerCtx(at, 'birthdayEnc'), '1985-07-14'),
    dmsNotesEnc: h.pd.sealFor(customerCtx(at, 'dmsNotesEnc'), `notes about ${opts.name}`),
    preferredContactTime: '工作日晚上',
    responsibleUserid: opts.advisor ?? 'zhangwei',
    lifecycle: { stage: 'owner', reason: 'vehicle_linked', changedAt: now },
    lifecycleHistory: [{ stage: 'owner', reason: 'vehicle_linked', at: now }],
    privacyNotice: { version: '2026-05', sentAt: now, channel: 'welcome' },
    fetchedAt: now,
  });
  const relAt = { ...at, userid: opts.advisor ?? 'zhangwei' };
  const remark = h.pd.sealSearchableFor(relationshipCtx(relAt, 'remarkEnc'), 'remark', `${opts.name}先生`);
  const ended = opts.endedDaysAgo !== undefined;
  await RelationshipModel.create({
    corpId,
    userid: opts.advisor ?? 'zhangwei',
    externalUserId: ext,
    customerId: customer._id,
    state: 'delivery_q1',
    addWay: 1,
    addedAt: now,
    remarkEnc: remark.enc,
    remarkHash: remark.hash,
    descriptionEnc: h.pd.sealFor(relationshipCtx(relAt, 'descriptionEnc'), `${opts.name} likes SUVs`),
    remarkMobilesEnc: [h.pd.sealFor(relationshipCtx(relAt, 'remarkMobilesEnc'), opts.mobile) as string],
    remarkMobileHashes: [h.pd.hash('mobile', opts.mobile)],
    tagIds: ['etOwner'],
    status: ended ? 'deleted_by_customer' : 'active',
    statusChangedAt: ended ? new Date(now.getTime() - (opts.endedDaysAgo ?? 0) * DAY) : now,
    statusCause: ended ? 'del_follow_user' : 'added',
  });
  if (opts.active)
    await RelationshipModel.create({
      corpId,
      userid: 'lina',
      externalUserId: ext,
      customerId: customer._id,
      status: 'active',
      statusChangedAt: now,
    });
  await VehicleModel.create({
    corpId,
    vin: `LSVAB2180E2${String(100000 + seq).slice(-6)}`,
    model: '星越L',
    customerId: customer._id,
    externalUserId: ext,
    source: 'api',
    linkedAt: now,
    deliveryDate: now,
  });
  const schedule = await ScheduleModel.create({
    key: `k-${seq}-${Date.now()}`,
    corpId,
    customerId: customer._id,
    kind: 'follow_up',
    occurrenceId: 'o1',
    dueAt: new Date(now.getTime() + DAY),
    status: 'planned',
    anchor: { field: 'birthday', value: '07-14' },
    advisorUserid: 'zhangwei',
    payload: { title: '生日' },
  });
  const batch = await MessageBatchModel.create({
    corpId,
    sender: 'zhangwei',
    contentHash: `h-${seq}`,
    content: { text: '尊敬的车主', attachments: [] },
    status: 'open',
    openedAt: now,
  });
  await MessageRecipientModel.create({
    key: `r-${seq}-${Date.now()}`,
    batchId: batch._id,
    corpId,
    customerId: customer._id,
    externalUserId: ext,
    sender: 'zhangwei',
    monthKey: '2026-05',
    status: 'queued',
  });
  await TaskModel.create({
    corpId,
    customerId: customer._id,
    advisorUserid: 'zhangwei',
    title: '生日问候',
    talkTrack: '{客户}您好',
    dueAt: now,
    slaMs: DAY,
    ladder: { escalateAfterMs: DAY, flagAfterMs: 2 * DAY },
    remindAt: now,
  });
  await DomainEventRecordModel.create({
    eventId: `ev-${seq}-${Date.now()}`,
    type: 'customer.added',
    corpId,
    sourceId: 's',
    occurredAt: now,
    customerId: String(customer._id),
    externalUserId: ext,
    status: 'processed',
  });
  // An event an inbound job committed and died before running: the relay loop would queue it.
  await DomainEventRecordModel.create({
    eventId: `ev-leased-${seq}-${Date.now()}`,
    type: 'customer.became_owner',
    corpId,
    sourceId: 's',
    occurredAt: now,
    customerId: String(customer._id),
    externalUserId: ext,
    status: 'processing',
    attempts: 1,
    leaseUntil: new Date(now.getTime() - 1000),
  });
  await h.queues
    .get(QueueName.domainEvents)
    .add(
      'customer.added',
      { type: 'customer.added', corpId, customerId: String(customer._id), externalUserId: ext },
      { jobId: `pending-${ext}`, delay: DAY },
    );
  return { id: String(customer._id), ext, scheduleId: String(schedule._id) };
}

describe('DELETE /api/v1/customers/:id (erasure)', () => {
  it('refuses other corps, other roles and a missing reason; erases everything and leaves a tombstone without personal data', async () => {
    const c = await seedCustomer(CORP_A, { name: '擦除测试甲', mobile: '13800001111' });
    const dealerB = await h.token('dealer_admin', [CORP_B]);
    const marketingA = await h.token('marketing', [CORP_A]);
    const dealerA = await h.token('dealer_admin', [CORP_A]);
    await request(h.app.callback())
      .delete(`/api/v1/customers/${c.id}`)
      .set(as(dealerB))
      .send({ reason: 'customer_request' })
      .expect(404);
    await request(h.app.callback())
      .delete(`/api/v1/customers/${c.id}`)
      .set(as(marketingA))
      .send({ reason: 'customer_request' })
      .expect(403);
    await request(h.app.callback()).delete(`/api/v1/customers/${c.id}`).set(as(dealerA)).send({}).expect(422);
    await request(h.app.callback())
      .delete(`/api/v1/customers/${c.id}`)
      .set(as(dealerA))
      .send({ reason: 'customer_request', ticket: '张三要求' })
      .expect(422);
    const res = await request(h.app.callback())
      .delete(`/api/v1/customers/${c.id}`)
      .set(as(dealerA))
      .send({ reason: 'customer_request', ticket: 'REQ-2026-0042' })
      .expect(200);
    expect(res.body).toMatchObject({
      erased: true,
      alreadyErased: false,
      relationships: 1,
      vehicles: 1,
      schedules: 1,
      messages: 1,
      tasks: 1,
      jobs: 1,
    });

    const customer = await CustomerModel.findById(c.id).lean();
    expect(customer).toMatchObject({
      externalUserId: `erased-${c.id}`,
      optOut: { value: true, source: 'erasure' },
      lifecycle: { stage: 'owner' },
    });
    for (const f of [
      'nameEnc',
      'nameHash',
      'unionidEnc',
      'unionidHash',
      'birthdayEnc',
      'dmsNotesEnc',
      'preferredContactTime',
    ])
      expect(customer).not.toHaveProperty(f);
    const rel = await RelationshipModel.findOne({ customerId: new Types.ObjectId(c.id) }).lean();
    expect(rel).toMatchObject({
      externalUserId: `erased-${c.id}`,
      remarkMobilesEnc: [],
      remarkMobileHashes: [],
      status: 'active',
      tagIds: ['etOwner'],
    });
    expect(rel).not.toHaveProperty('remarkEnc');
    expect(rel).not.toHaveProperty('descriptionEnc');
    expect(await VehicleModel.countDocuments({ customerId: new Types.ObjectId(c.id) })).toBe(0);
    expect(await ScheduleModel.findById(c.scheduleId).lean()).toMatchObject({
      status: 'cancelled',
      cancelReason: 'erased',
      anchor: { field: 'birthday' },
    });
    expect((await ScheduleModel.findById(c.scheduleId).lean())?.anchor?.value).toBeUndefined();
    expect(await MessageRecipientModel.findOne({ customerId: new Types.ObjectId(c.id) }).lean()).toMatchObject({
      status: 'cancelled',
      externalUserId: `erased-${c.id}`,
    });
    expect(await TaskModel.findOne({ customerId: new Types.ObjectId(c.id) }).lean()).toMatchObject({
      status: 'cancelled',
    });
    expect(await DomainEventRecordModel.countDocuments({ externalUserId: c.ext })).toBe(0);
    expect(await h.queues.get(QueueName.domainEvents).getJob(`pending-${c.ext}`)).toBeUndefined();
    // The leased event of the erased customer is no longer the relay loop's to deliver.
    expect(await DomainEventRecordModel.countDocuments({ customerId: c.id, leaseUntil: { $exists: true } })).toBe(0);
    expect(await DomainEventRecordModel.countDocuments({ customerId: c.id, status: 'failed' })).toBe(1);

    const everything = JSON.stringify(
      await Promise.all(
        [
          CustomerModel,
          RelationshipModel,
          VehicleModel,
          ScheduleModel,
          MessageRecipientModel,
          TaskModel,
          DomainEventRecordModel,
          AuditEntryModel,
        ].map((m) => (m as typeof CustomerModel).find({}).lean()),
      ),
    );
    for (const needle of [
      c.ext,
      h.pd.hash('name', '擦除测试甲'),
      h.pd.hash('mobile', '13800001111'),
      h.pd.hash('remark', '擦除测试甲先生'),
    ])
      expect(everything).not.toContain(needle);

    const tombstone = await AuditEntryModel.findOne({ action: 'customer.erase', 'target.id': c.id }).lean();
    expect(tombstone).toMatchObject({
      target: { type: 'customer', corpId: CORP_A },
      detail: { reason: 'customer_request', ticket: 'REQ-2026-0042', relationships: 1 },
    });
    expect(JSON.stringify(tombstone)).not.toMatch(/擦除测试甲|13800001111/);

    const again = await request(h.app.callback())
      .delete(`/api/v1/customers/${c.id}`)
      .set(as(dealerA))
      .send({ reason: 'customer_request' })
      .expect(200);
    expect(again.body).toMatchObject({ alreadyErased: true });
  });
});

describe('GET /api/v1/customers/:id/export', () => {
  it("returns every stored field of the customer's records, opened; refuses other corps; is audited", async () => {
    const c = await seedCustomer(CORP_A, { name: '导出测试乙', mobile: '13800002222' });
    const dealerB = await h.token('dealer_admin', [CORP_B]);
    const advisorA = await h.token('advisor', [CORP_A], 'zhangwei');
    const admin = await h.token('admin');
    await request(h.app.callback()).get(`/api/v1/customers/${c.id}/export`).set(as(dealerB)).expect(404);
    await request(h.app.callback()).get(`/api/v1/customers/${c.id}/export`).set(as(advisorA)).expect(403);
    const res = await request(h.app.callback()).get(`/api/v1/customers/${c.id}/export`).set(as(admin)).expect(200);
    const data = res.body as { collections: Record<string, Array<Record<string, unknown>>> };
    const customer = data.collections.customers?.[0];
    expect(customer).toMatchObject({
      name: '导出测试乙',
      birthday: '1985-07-14',
      preferredContactTime: '工作日晚上',
      nameHash: HASH_PLACEHOLDER,
      privacyNotice: { version: '2026-05' },
    });
    expect(data.collections.relationships?.[0]).toMatchObject({
      remark: '导出测试乙先生',
      remarkMobiles: ['13800002222'],
    });
    expect(data.collections.message_batches?.[0]).toMatchObject({ content: { text: '尊敬的车主' } });
    expect(data.collections.tasks).toHaveLength(1);

    // Every inventoried field that is stored for this customer appears in the export (opened where sealed).
    const raw: Record<string, Array<Record<string, unknown>>> = {
      customers: [(await CustomerModel.findById(c.id).lean()) as Record<string, unknown>],
      relationships: (await RelationshipModel.find({ customerId: new Types.ObjectId(c.id) }).lean()) as Array<
        Record<string, unknown>
      >,
      schedules: (await ScheduleModel.find({ customerId: new Types.ObjectId(c.id) }).lean()) as Array<
        Record<string, unknown>
      >,
    };
    const missing: string[] = [];
    for (const [field] of readInventory()) {
      const [collection, ...path] = field.split('.');
      if (!collection || !(EXPORTED_COLLECTIONS as readonly string[]).includes(collection) || !raw[collection])
        continue;
      const stored = dig(raw[collection]?.[0], path);
      const exportedPath = [...path.slice(0, -1), exportedFieldName(path[path.length - 1] ?? '')];
      if (stored !== undefined && dig(data.collections[collection]?.[0], exportedPath) === undefined)
        missing.push(field);
    }
    expect(missing).toEqual([]);
    expect(await AuditEntryModel.countDocuments({ action: 'customer.export', 'target.id': c.id })).toBe(1);
  });
});

function dig(value: unknown, path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (Array.isArray(v)) v = v[0];
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

describe('opt-out API', () => {
  it("lets the customer's advisor, their manager and admins record it; refuses other advisors, other corps and other roles", async () => {
    const c = await seedCustomer(CORP_A, { name: '退订测试丙', mobile: '13800003333', advisor: 'liuyang' });
    await AdvisorModel.create({ corpId: CORP_A, userid: 'liuyang', departments: [7] });
    await AdvisorModel.create({ corpId: CORP_A, userid: 'boss7', leadsDepartments: [7] });
    const own = await h.token('advisor', [CORP_A], 'liuyang');
    const other = await h.token('advisor', [CORP_A], 'someoneelse');
    const manager = await h.token('manager', [CORP_A], 'boss7');
    const dealerB = await h.token('dealer_admin', [CORP_B]);
    const integration = await h.token('integration', [CORP_A]);
    await request(h.app.callback()).post(`/api/v1/customers/${c.id}/opt-out`).set(as(other)).send({}).expect(404);
    await request(h.app.callback()).post(`/api/v1/customers/${c.id}/opt-out`).set(as(dealerB)).send({}).expect(404);
    await request(h.app.callback()).post(`/api/v1/customers/${c.id}/opt-out`).set(as(integration)).send({}).expect(403);
    await request(h.app.callback())
      .post(`/api/v1/customers/${c.id}/opt-out`)
      .set(as(own))
      .send({ source: 'unknown' })
      .expect(422);
    const res = await request(h.app.callback())
      .post(`/api/v1/customers/${c.id}/opt-out`)
      .set(as(own))
      .send({ source: 'advisor_reported' })
      .expect(200);
    expect(res.body).toMatchObject({ optOut: true, changed: true, cancelledQueued: 1 });
    expect(await MessageRecipientModel.findOne({ customerId: new Types.ObjectId(c.id) }).lean()).toMatchObject({
      status: 'cancelled',
      reason: 'opted_out',
    });
    const state = await request(h.app.callback()).get(`/api/v1/customers/${c.id}/privacy`).set(as(manager)).expect(200);
    expect(state.body).toMatchObject({
      optOut: { value: true, source: 'advisor_reported' },
      privacyNotice: { version: '2026-05', channel: 'welcome' },
    });
    await request(h.app.callback())
      .delete(`/api/v1/customers/${c.id}/opt-out`)
      .set(as(manager))
      .send({ source: 'console' })
      .expect(200);
    expect((await CustomerModel.findById(c.id).lean())?.optOut).toMatchObject({ value: false, source: 'console' });
    const audit = await AuditEntryModel.find({
      'target.id': c.id,
      action: { $in: ['customer.opt_out', 'customer.opt_in'] },
    })
      .sort({ at: 1 })
      .lean();
    expect(audit.map((a) => [a.action, a.actor?.role])).toEqual([
      ['customer.opt_out', 'advisor'],
      ['customer.opt_in', 'manager'],
    ]);
    expect(JSON.stringify(audit)).not.toContain('退订测试丙');
  });
});

describe('retention sweep', () => {
  it('erases customers whose last relationship ended more than the retention period ago, and only those', async () => {
    const corpId = 'wwretention0001';
    const old = await seedCustomer(corpId, { name: '保留期甲', mobile: '13800004444', endedDaysAgo: 181 });
    const recent = await seedCustomer(corpId, { name: '保留期乙', mobile: '13800005555', endedDaysAgo: 100 });
    const followed = await seedCustomer(corpId, {
      name: '保留期丙',
      mobile: '13800006666',
      endedDaysAgo: 400,
      active: true,
    });
    const deps = { queues: h.queues, clock: h.clock, hasher: h.pd.hasher };
    expect(await runRetentionSweep(deps, { corpId, retentionDays: 180 })).toEqual({ erased: 1 });
    expect((await CustomerModel.findById(old.id).lean())?.erasedAt).toBeInstanceOf(Date);
    expect((await CustomerModel.findById(recent.id).lean())?.erasedAt).toBeUndefined();
    expect(await runRetentionSweep(deps, { corpId, retentionDays: 180 })).toEqual({ erased: 0 }); // rerun: nothing left

    h.clock.advance(81 * DAY);
    expect(await runRetentionSweep(deps, { corpId, retentionDays: 180 })).toEqual({ erased: 1 });
    expect((await CustomerModel.findById(recent.id).lean())?.nameEnc).toBeUndefined();
    expect((await CustomerModel.findById(followed.id).lean())?.nameEnc).toBeDefined();
    const tombstones = await AuditEntryModel.find({ action: 'customer.erase', 'target.corpId': corpId }).lean();
    expect(
      tombstones.map((t) => [t.target?.id, t.actor?.tokenId, (t.detail as { reason?: string }).reason]).sort(),
    ).toEqual(
      [
        [old.id, 'system-retention-sweep', 'retention_expired'],
        [recent.id, 'system-retention-sweep', 'retention_expired'],
      ].sort(),
    );
  });
});
