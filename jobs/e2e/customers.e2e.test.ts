/**
 * Customers and retention end to end: sandbox → real HTTP → ingestion → Redis → worker → dev MongoDB → sandbox API.
 * Each test plays WeCom events through the sandbox's callback driver and checks the stored state
 * and the sandbox's call log.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { CorpTagGroupModel } from '../../src/domain/customers/corp-tag.model.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { relationshipCtx } from '../../src/domain/customers/personal-data.js';
import { RelationshipModel } from '../../src/domain/customers/relationship.model.js';
import type { DomainEventType } from '../../src/domain/events/domain-event.js';
import { DomainEventRecordModel } from '../../src/domain/events/domain-event-record.model.js';
import { vehicleInputSchema } from '../../src/domain/vehicles/vehicle-input.js';
import { upsertVehicle } from '../../src/domain/vehicles/vehicle.service.js';
import { openInboundXml } from '../../src/ingest/inbound-seal.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { waitFor } from '../../src/testing/wait.js';
import { follow, ownerTagId, useBotHarness, type BotHarness } from './bot.test-support.js';

let bot: BotHarness;
useBotHarness((harness) => (bot = harness));
beforeEach(() => {
  bot.sandbox.context.calls.clear();
});

const events = (type: DomainEventType, externalUserId?: string) =>
  DomainEventRecordModel.countDocuments({ type, ...(externalUserId ? { externalUserId } : {}) });

describe('adding customers', () => {
  it('a delivery-channel add: welcome job first, customer stored, owner, tagged 保客 — once, even when delivered four times', async () => {
    const { externalUserId, delivery } = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'zhangwei',
      customer: { name: '测试客户乙' },
      state: 'delivery_2026_05',
    });
    expect(delivery?.ok).toBe(true);
    // WeCom retries: the same signed request three more times.
    for (let i = 0; i < 3; i++) expect((await bot.sandbox.driver.redeliver(delivery?.id ?? -1)).ok).toBe(true);
    await bot.settle('the add to be processed');

    const customer = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId }).lean();
    expect(customer?.lifecycle).toMatchObject({ stage: 'owner', reason: 'delivery_channel' });
    expect(customer?.responsibleUserid).toBe('zhangwei');
    const rel = await RelationshipModel.findOne({ corpId: bot.corpId, externalUserId }).lean();
    expect(rel).toMatchObject({ userid: 'zhangwei', state: 'delivery_2026_05', status: 'active' });
    expect(follow(bot, 'zhangwei', externalUserId)?.tagIds).toContain(ownerTagId(bot));
    expect(await events('customer.added', externalUserId)).toBe(1);
    expect(await events('customer.became_owner', externalUserId)).toBe(1);
    const inbound = await bot.web.queues
      .get(QueueName.wecomInbound)
      .getJobs(['completed', 'failed', 'waiting', 'active']);
    expect(
      inbound.filter((j) => openInboundXml(bot.web.cipher, String(j.id), j.data).includes(externalUserId)),
    ).toHaveLength(1); // four deliveries, one job

    const welcomeJobs = await bot.web.queues
      .get(QueueName.wecomWelcome)
      .getJobs(['completed', 'failed', 'waiting', 'active']);
    const mine = welcomeJobs.filter((j) => j.data.externalUserId === externalUserId);
    expect(mine).toHaveLength(1);
    const firstGet = bot.apiCalls.find((c) => c.endpoint === 'externalcontact/get');
    expect(firstGet).toBeDefined();
    expect(mine[0]?.timestamp).toBeLessThanOrEqual(firstGet?.atMs ?? 0); // enqueued before the API call
    expect(JSON.stringify(mine[0]?.data)).not.toContain('测试客户乙');
  });

  it('the welcome the web enqueued with the add is not added again by the worker; a spooled add gets its welcome from the worker', async () => {
    const welcomeQueue = bot.web.queues.get(QueueName.wecomWelcome);
    const welcomesOf = async (externalUserId: string) =>
      (await welcomeQueue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed'])).filter(
        (j) => j.data.externalUserId === externalUserId,
      );
    // BullMQ adds to the welcome queue: the worker's fallback (the web writes with its own script).
    const adds = vi.spyOn(welcomeQueue, 'add');
    const enqueue = vi.spyOn(bot.web.ingest.producer, 'enqueue');
    try {
      const direct = await bot.sandbox.driver.addCustomer({
        corpId: bot.corpId,
        userid: 'zhangwei',
        customer: { name: '测试客户戊' },
        state: 'showroom_qr',
      });
      expect(direct.delivery?.ok).toBe(true);
      await bot.settle('the add to be processed');
      expect(await CustomerModel.countDocuments({ corpId: bot.corpId, externalUserId: direct.externalUserId })).toBe(1);
      expect(await welcomesOf(direct.externalUserId)).toHaveLength(1);
      expect(adds).not.toHaveBeenCalled();

      // The queue does not take the next callback: it is spooled, and the relay moves it on unmarked.
      enqueue.mockRejectedValueOnce(new Error('Redis did not take the jobs within 1000 ms'));
      const spooled = await bot.sandbox.driver.addCustomer({
        corpId: bot.corpId,
        userid: 'lina',
        customer: { name: '测试客户己' },
        state: 'showroom_qr',
      });
      expect(spooled.delivery?.ok).toBe(true);
      await waitFor(
        async () =>
          bot.web.ingest.spool.depth === 0 &&
          (await CustomerModel.countDocuments({ corpId: bot.corpId, externalUserId: spooled.externalUserId })) === 1,
        'the spooled add to be processed',
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      await bot.settle();
      const welcomes = await welcomesOf(spooled.externalUserId);
      expect(welcomes).toHaveLength(1);
      expect(welcomes[0]?.data.welcomeCode).toBe(spooled.welcomeCode);
      expect(adds).toHaveBeenCalledTimes(1);
      expect(enqueue).toHaveBeenCalledTimes(3); // the direct add, the refused one, the relay's
    } finally {
      adds.mockRestore();
      enqueue.mockRestore();
    }
  });

  it("the same add delivered three times and an edit before the add end in WeCom's state", async () => {
    const added = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'lina',
      customer: { name: '测试客户丙' },
      state: 'showroom_qr',
    });
    await bot.sandbox.driver.editRelationship({
      corpId: bot.corpId,
      userid: 'lina',
      externalUserId: added.externalUserId,
      remark: '丙先生',
      addTags: ['意向'],
    });
    await bot.settle();
    const rel = await RelationshipModel.findOne({ corpId: bot.corpId, externalUserId: added.externalUserId }).lean();
    const intent = bot.sandbox.world.corp(bot.corpId)?.tags.find((t) => t.name === '意向')?.id;
    expect(rel?.tagIds).toEqual([intent]);
    expect(
      bot.ctx.pd.openFor(
        relationshipCtx({ corpId: bot.corpId, externalUserId: added.externalUserId, userid: 'lina' }, 'remarkEnc'),
        rel?.remarkEnc,
      ),
    ).toBe('丙先生');
    expect(rel?.remarkEnc?.startsWith('v2.')).toBe(true);
    const customer = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId: added.externalUserId }).lean();
    expect(customer?.lifecycle?.stage).toBe('prospect');
  });
});

describe('retained customers', () => {
  it('an advisor tagging 已购车 makes an owner once, even with the edit delivered four times', async () => {
    const added = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'liuyang',
      customer: { name: '测试客户丁' },
      state: 'douyin_lead',
    });
    await bot.settle();
    const edit = await bot.sandbox.driver.editRelationship({
      corpId: bot.corpId,
      userid: 'liuyang',
      externalUserId: added.externalUserId,
      addTags: ['已购车'],
    });
    for (let i = 0; i < 3; i++) await bot.sandbox.driver.redeliver(edit.delivery?.id ?? -1);
    await bot.settle();
    const customer = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId: added.externalUserId }).lean();
    expect(customer?.lifecycle).toMatchObject({ stage: 'owner', reason: 'owner_tag' });
    expect(await events('customer.tag_added', added.externalUserId)).toBe(1);
    expect(await events('customer.became_owner', added.externalUserId)).toBe(1);
    expect(follow(bot, 'liuyang', added.externalUserId)?.tagIds).toContain(ownerTagId(bot));
  });

  it("a linked vehicle makes an owner, tags both advisors' relationships with 保客 and the model, and the seller becomes responsible", async () => {
    const first = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'zhangwei',
      customer: { name: '测试客户戊' },
      state: 'autoshow_qr',
    });
    await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'lina',
      externalUserId: first.externalUserId,
      state: 'autoshow_qr',
    });
    await bot.settle();
    expect((await CustomerModel.findOne({ externalUserId: first.externalUserId }).lean())?.responsibleUserid).toBe(
      'lina',
    ); // most recent
    const outcome = await upsertVehicle(
      {
        corpId: bot.corpId,
        timeZone: 'Asia/Shanghai',
        pd: bot.ctx.pd,
        queues: bot.ctx.queues,
        now: () => bot.clock.now(),
      },
      vehicleInputSchema.parse({
        vin: 'LVSHCAME0PE000001',
        model: '星途瑶光',
        deliveryDate: '2026-05-01',
        externalUserId: first.externalUserId,
        salesUserid: 'zhangwei',
      }),
      'api',
    );
    expect(outcome).toMatchObject({ status: 'created', linked: true });
    await bot.settle();
    const customer = await CustomerModel.findOne({ externalUserId: first.externalUserId }).lean();
    expect(customer?.lifecycle).toMatchObject({ stage: 'owner', reason: 'vehicle_linked' });
    expect(customer?.responsibleUserid).toBe('zhangwei');
    const modelTag = bot.sandbox.world.corp(bot.corpId)?.tags.find((t) => t.name === '星途瑶光')?.id;
    for (const userid of ['zhangwei', 'lina']) {
      expect(follow(bot, userid, first.externalUserId)?.tagIds).toEqual(
        expect.arrayContaining([ownerTagId(bot), modelTag]),
      );
    }
  });
});

describe('losing and moving customers', () => {
  it('the customer deleting the advisor: lost, with a loss alert to the advisor and the leader in WeCom', async () => {
    const added = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'zhangwei',
      customer: { name: '测试客户己' },
    });
    await bot.sandbox.driver.editRelationship({
      corpId: bot.corpId,
      userid: 'zhangwei',
      externalUserId: added.externalUserId,
      remark: '己女士',
    });
    await bot.settle();
    await bot.sandbox.driver.customerDeletesAdvisor({
      corpId: bot.corpId,
      userid: 'zhangwei',
      externalUserId: added.externalUserId,
    });
    await bot.settle();
    const rel = await RelationshipModel.findOne({ externalUserId: added.externalUserId }).lean();
    expect(rel).toMatchObject({ status: 'deleted_by_customer', statusCause: 'del_follow_user' });
    expect((await CustomerModel.findOne({ externalUserId: added.externalUserId }).lean())?.lifecycle?.stage).toBe(
      'lost',
    );
    expect(await events('customer.lost', added.externalUserId)).toBe(1);
    const texts =
      bot.sandbox.world.corp(bot.corpId)?.messages.filter((m) => JSON.stringify(m).includes('己女士')) ?? [];
    const recipients = texts.flatMap((m) => m.touser).sort();
    expect(recipients).toEqual(['wangqiang', 'zhangwei']);
  });

  it('a transfer deletion records the transfer; a failed transfer tells the leader', async () => {
    const added = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'liuyang',
      customer: { name: '测试客户庚' },
    });
    await bot.settle();
    await bot.sandbox.driver.advisorDeletesCustomer({
      corpId: bot.corpId,
      userid: 'liuyang',
      externalUserId: added.externalUserId,
      source: 'DELETE_BY_TRANSFER',
    });
    await bot.settle();
    expect(
      await RelationshipModel.findOne({ externalUserId: added.externalUserId, userid: 'liuyang' }).lean(),
    ).toMatchObject({ status: 'transferred' });
    expect(await events('relationship.transferred', added.externalUserId)).toBe(1);

    const before = bot.sandbox.world.corp(bot.corpId)?.messages.length ?? 0;
    await bot.sandbox.driver.transferFails({
      corpId: bot.corpId,
      userid: 'lina',
      externalUserId: added.externalUserId,
      reason: 'customer_refused',
    });
    await bot.settle();
    const sent = bot.sandbox.world.corp(bot.corpId)?.messages.slice(before) ?? [];
    expect(sent.flatMap((m) => m.touser)).toEqual(['wangqiang']);
    expect(JSON.stringify(sent)).toContain('客户拒绝');
  });
});

describe('tags and members', () => {
  it('a tag change refreshes the cache; a member change arrives through contact sync', async () => {
    await bot.sandbox.driver.changeTags({
      corpId: bot.corpId,
      change: 'create',
      groupName: '客户阶段',
      name: '流失预警',
    });
    await bot.settle();
    await waitFor(
      async () => CorpTagGroupModel.findOne({ corpId: bot.corpId, 'tags.name': '流失预警' }).lean(),
      'the new tag in the cache',
    );

    await bot.sandbox.driver.changeMember({
      corpId: bot.corpId,
      change: 'create_user',
      userid: 'xiaoma',
      name: '马晓',
      department: [2],
      directLeader: ['wangqiang'],
    });
    await bot.settle();
    expect(await AdvisorModel.findOne({ corpId: bot.corpId, userid: 'xiaoma' }).lean()).toMatchObject({
      name: '马晓',
      departments: [2],
      directLeaders: ['wangqiang'],
      status: 'active',
    });
    await bot.sandbox.driver.changeMember({ corpId: bot.corpId, change: 'delete_user', userid: 'xiaoma' });
    await bot.settle();
    expect((await AdvisorModel.findOne({ corpId: bot.corpId, userid: 'xiaoma' }).lean())?.status).toBe('left');
  });
});

describe('personal data at rest', () => {
  it('no customer name, remark or mobile appears in clear in any MongoDB collection', async () => {
    const db = (await import('mongoose')).default.connection.db;
    if (!db) throw new Error('no database');
    const dump: string[] = [];
    for (const { name } of await db.listCollections().toArray())
      dump.push(JSON.stringify(await db.collection(name).find({}).toArray()));
    const text = dump.join('\n');
    expect(text.length).toBeGreaterThan(1000);
    for (const plain of ['测试客户乙', '测试客户丙', '丙先生', '己女士', '13800000101', '赵先生'])
      expect(text).not.toContain(plain);
  });
});
