import { beforeEach, describe, expect, it, vi } from 'vitest';
import { QueueName } from '../../../queues/queue-names.js';
import type { Principal } from '../../auth/principal.js';
import { CorpReadCache } from '../../corps/corp-read-cache.js';
import { AdvisorModel } from '../../customers/advisor.model.js';
import { CorpTagGroupModel } from '../../customers/corp-tag.model.js';
import { CustomerModel } from '../../customers/customer.model.js';
import { RelationshipModel } from '../../customers/relationship.model.js';
import type { DomainEvent } from '../../events/domain-event.js';
import { MessageBatchModel, MessageRecipientModel } from '../../messages/message.model.js';
import { flushBatch, pollBatch } from '../../messages/message.service.js';
import { ScheduleModel } from '../../schedules/schedule.model.js';
import { runSweep } from '../../schedules/sweep.js';
import { VehicleModel } from '../../vehicles/vehicle.model.js';
import { RuleModel } from '../rule.model.js';
import { ruleBodySchema, ruleCreateSchema, type RuleBodyInput } from '../rule.schema.js';
import { RuleService } from '../rule.service.js';
import { sendWelcomeForAdd } from '../welcome.js';
import { fireRuleActionSchedule, handleDomainEvent } from './engine.js';
import { HOLDOUT_REASON, isHeldOut } from '../holdout.js';
import { DEMO_CORP_ID, type EngineHarness, useEngineHarness } from './engine.test-support.js';
import { ExecutionModel } from './execution.model.js';
import { evaluateInactivityRules } from './inactivity.js';
import { TaskModel } from '../../tasks/task.model.js';
import { countingCommands } from '../../../testing/mongo-commands.js';

let h: EngineHarness;
useEngineHarness('engine', (harness) => (h = harness));
const admin: Principal = { role: 'admin', corps: '*', tokenId: 'test' };
const ext2 = 'wmSandboxDemoCustomer00000000002'; // 钱女士, followed by zhangwei

beforeEach(async () => {
  await Promise.all(
    [
      RuleModel,
      ExecutionModel,
      ScheduleModel,
      CustomerModel,
      RelationshipModel,
      VehicleModel,
      MessageBatchModel,
      MessageRecipientModel,
      TaskModel,
    ].map((m) => (m as typeof RuleModel).deleteMany({})),
  );
  await h.deps.queues.get(QueueName.scheduled).obliterate({ force: true });
  h.sandbox.context.calls.clear();
  h.clock.set(Date.parse('2026-05-10T02:00:00Z'));
});

const rules = () => new RuleService(() => h.clock.now());
const createRule = async (body: Omit<RuleBodyInput, 'scope'>) =>
  rules().create(admin, ruleCreateSchema.parse({ ...body, scope: DEMO_CORP_ID, enabled: true }));
const calls = (endpoint: string) =>
  h.sandbox.context.calls
    .list({ endpoint, corpId: DEMO_CORP_ID })
    .filter((c) => c.errcode === 0 || c.errcode === undefined);

async function customer(opts: { state?: string; optOut?: boolean; lifecycle?: 'prospect' | 'owner' } = {}) {
  const c = await CustomerModel.create({
    corpId: DEMO_CORP_ID,
    externalUserId: ext2,
    responsibleUserid: 'zhangwei',
    lifecycle: { stage: opts.lifecycle ?? 'owner', reason: 'test' },
    optOut: { value: Boolean(opts.optOut) },
  });
  await RelationshipModel.create({
    corpId: DEMO_CORP_ID,
    userid: 'zhangwei',
    externalUserId: ext2,
    customerId: c._id,
    state: opts.state,
    status: 'active',
  });
  return String(c._id);
}

const event = (
  type: DomainEvent['type'],
  customerId: string,
  data: DomainEvent['data'] = {},
  occurredAt = h.clock.now().toISOString(),
): DomainEvent => ({
  type,
  corpId: DEMO_CORP_ID,
  sourceId: 'src',
  occurredAt,
  customerId,
  externalUserId: ext2,
  userid: 'zhangwei',
  data,
});

async function tagId(group: string, name: string): Promise<string> {
  const g = await CorpTagGroupModel.findOne({ corpId: DEMO_CORP_ID, groupName: group }).lean();
  const t = g?.tags.find((x) => x.name === name);
  if (!t) throw new Error(`no tag ${group}/${name}`);
  return t.id;
}

describe('welcome rules', () => {
  it("a delivery-channel add gets exactly one welcome with the rule's content, and the add event applies the rule's tags once", async () => {
    await createRule({
      name: 'other',
      priority: 10,
      trigger: { type: 'customer.added' },
      actions: [{ type: 'welcome', text: '通用欢迎' }],
    });
    const rule = await createRule({
      name: '交车欢迎',
      priority: 200,
      trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
      actions: [
        {
          type: 'welcome',
          text: '恭喜提车！',
          attachments: [{ type: 'link', title: '车主手册', url: 'https://example.com/manual' }],
        },
        {
          type: 'tag',
          add: [
            { group: '客户阶段', name: '保客' },
            { group: '交车渠道', name: '展厅交车' },
          ],
        },
      ],
    });
    const added = await h.sandbox.driver.addCustomer({
      corpId: DEMO_CORP_ID,
      userid: 'lina',
      customer: {},
      state: 'delivery_2026',
    });
    const welcomeEvent = {
      userid: 'lina',
      externalUserId: added.externalUserId,
      state: 'delivery_2026',
      welcomeCode: added.welcomeCode ?? '',
    };
    const first = await sendWelcomeForAdd({
      corp: h.corp,
      api: h.deps.api,
      event: welcomeEvent,
      clock: h.clock,
      logger: h.deps.logger,
    });
    const again = await sendWelcomeForAdd({
      corp: h.corp,
      api: h.deps.api,
      event: welcomeEvent,
      clock: h.clock,
      logger: h.deps.logger,
    });
    expect(first).toEqual({ sent: true, ruleId: rule.id, ruleVersion: 1 });
    expect(again).toMatchObject({ sent: false, reason: 'already_sent' });
    const welcomes =
      h.sandbox.world.corp(DEMO_CORP_ID)?.welcomes.filter((w) => w.external_userid === added.externalUserId) ?? [];
    expect(welcomes).toEqual([expect.objectContaining({ text: '恭喜提车！', attachments: 1 })]);

    const c = await CustomerModel.create({ corpId: DEMO_CORP_ID, externalUserId: added.externalUserId });
    await RelationshipModel.create({
      corpId: DEMO_CORP_ID,
      userid: 'lina',
      externalUserId: added.externalUserId,
      customerId: c._id,
      state: 'delivery_2026',
    });
    const addEvent = {
      ...event('customer.added', String(c._id), { state: 'delivery_2026' }),
      userid: 'lina',
      externalUserId: added.externalUserId,
    };
    await handleDomainEvent(h.deps, addEvent);
    await handleDomainEvent(h.deps, addEvent);
    expect(calls('externalcontact/mark_tag')).toHaveLength(1);
    const rel = await RelationshipModel.findOne({ customerId: c._id }).lean();
    expect(rel?.tagIds).toEqual(
      expect.arrayContaining([await tagId('客户阶段', '保客'), await tagId('交车渠道', '展厅交车')]),
    );
  });

  it('sends nothing when no welcome rule matches, and treats 41050 as final', async () => {
    await createRule({
      name: '交车欢迎',
      trigger: { type: 'customer.added', state: { equals: 'delivery' } },
      actions: [{ type: 'welcome', text: 'hi' }],
    });
    const none = await sendWelcomeForAdd({
      corp: h.corp,
      api: h.deps.api,
      event: { userid: 'lina', externalUserId: 'wmX', state: 'showroom', welcomeCode: 'wc-unknown' },
      clock: h.clock,
      logger: h.deps.logger,
    });
    expect(none).toEqual({ sent: false, reason: 'no_rule' });
    const used = await sendWelcomeForAdd({
      corp: h.corp,
      api: h.deps.api,
      event: { userid: 'lina', externalUserId: 'wmX', state: 'delivery', welcomeCode: 'wc-unknown' },
      clock: h.clock,
      logger: h.deps.logger,
    });
    expect(used).toMatchObject({ sent: false, reason: 'code_used' });
  });

  it("does not call WeCom when the code's deadline passed during the reads, and bounds a read that does not answer", async () => {
    await createRule({
      name: '交车欢迎',
      trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
      actions: [{ type: 'welcome', text: 'hi' }],
    });
    const added = await h.sandbox.driver.addCustomer({
      corpId: DEMO_CORP_ID,
      userid: 'lina',
      customer: {},
      state: 'delivery_2026',
    });
    const welcomeEvent = {
      userid: 'lina',
      externalUserId: added.externalUserId,
      state: 'delivery_2026',
      welcomeCode: added.welcomeCode ?? '',
    };
    const sendByMs = h.clock.nowMs() + 1000;
    // A stall inside the reads (here: the rule source moves the clock) uses up the window.
    const stalled = await sendWelcomeForAdd({
      corp: h.corp,
      api: h.deps.api,
      event: welcomeEvent,
      clock: h.clock,
      logger: h.deps.logger,
      deadline: { sendByMs, readBudgetMs: 3000 },
      rules: async (corpId) => {
        const found = await RuleModel.find({ scope: corpId, enabled: true }).lean();
        h.clock.set(sendByMs + 1);
        return found.map((d) => ({ id: String(d._id), version: d.version, body: d.body as never }));
      },
    });
    expect(stalled).toMatchObject({ sent: false, reason: 'deadline' });
    expect(calls('externalcontact/send_welcome_msg')).toEqual([]);

    const hanging = sendWelcomeForAdd({
      corp: h.corp,
      api: h.deps.api,
      event: welcomeEvent,
      clock: h.clock,
      logger: h.deps.logger,
      deadline: { sendByMs: h.clock.nowMs() + 10_000, readBudgetMs: 200 },
      rules: () => new Promise(() => undefined),
    });
    await expect(hanging).rejects.toThrow('MongoDB read over its time budget');
  });
});

describe('event rules', () => {
  it('an advisor tagging 已购车 triggers the owner rule once although the edit event arrives 4 times; editing the rule does not re-fire it', async () => {
    const rule = await createRule({
      name: '购车关怀',
      trigger: { type: 'customer.tag_added', tag: { group: '客户阶段', name: '已购车' } },
      actions: [
        { type: 'tag', add: [{ group: '客户阶段', name: '保客' }] },
        { type: 'notify_advisor', text: '客户已购车，请安排交车关怀' },
      ],
    });
    const id = await customer();
    const e = event('customer.tag_added', id, { tagId: await tagId('客户阶段', '已购车') });
    for (let i = 0; i < 4; i++) await handleDomainEvent(h.deps, e);
    await rules().update(admin, rule.id, ruleBodySchema.parse({ ...rule.body, name: '购车关怀 v2' }));
    const afterEdit = await handleDomainEvent(h.deps, e);
    expect(afterEdit).toEqual([{ ruleId: rule.id, outcome: 'duplicate' }]);
    expect(await ExecutionModel.find({ ruleId: rule.id }).lean()).toEqual([
      expect.objectContaining({ ruleVersion: 1, status: 'done', occurrenceId: expect.stringMatching(/^tag:/) }),
    ]);
    expect(calls('externalcontact/mark_tag')).toHaveLength(1);
    expect(calls('message/send')).toHaveLength(1);
  });
});

describe('holdout', () => {
  it("a customer in the rule's holdout group gets none of its actions; the execution records the holdout", async () => {
    const id = await customer();
    let rule: Awaited<ReturnType<typeof createRule>> | undefined;
    // Assignment is a keyed hash of rule and customer: draw rules until this customer is held out (p = 0.5 each).
    for (let i = 0; i < 30 && !rule; i++) {
      const candidate = await createRule({
        name: `对照组 ${i}`,
        holdoutShare: 0.5,
        trigger: { type: 'customer.tag_added', tag: { group: '客户阶段', name: '已购车' } },
        actions: [{ type: 'notify_advisor', text: '客户已购车' }],
      });
      if (isHeldOut(h.deps.pd.hasher, candidate.id, id, 0.5)) rule = candidate;
      else await rules().remove(admin, candidate.id);
    }
    if (!rule) throw new Error('no rule held the customer out in 30 draws');
    const outcomes = await handleDomainEvent(
      h.deps,
      event('customer.tag_added', id, { tagId: await tagId('客户阶段', '已购车') }),
    );
    expect(outcomes).toEqual([{ ruleId: rule.id, outcome: 'held_out' }]);
    expect(await ExecutionModel.find({ ruleId: rule.id }).lean()).toEqual([
      expect.objectContaining({ status: 'skipped', reason: HOLDOUT_REASON }),
    ]);
    expect(calls('message/send')).toHaveLength(0);
  });
});

describe('date rules', () => {
  it('plans a +150 d follow-up at 10:00 local from delivery and moves it when the delivery date is corrected', async () => {
    await createRule({
      name: '首保邀约',
      trigger: { type: 'date', field: 'deliveryDate', offset: '+150d at 10:00' },
      actions: [{ type: 'follow_up', title: '首保邀约' }],
    });
    const id = await customer();
    const vehicle = await VehicleModel.create({
      corpId: DEMO_CORP_ID,
      vin: 'LSVAB2180E2000001',
      customerId: id,
      deliveryDate: new Date('2026-04-29T16:00:00Z'),
      source: 'api',
    });
    await handleDomainEvent(h.deps, event('vehicle.linked', id, { vin: vehicle.vin }));
    const first = await ScheduleModel.find({ status: 'planned' }).lean();
    expect(first).toEqual([
      expect.objectContaining({
        kind: 'follow_up',
        dueAt: new Date('2026-09-27T02:00:00.000Z'),
        occurrenceId: 'delivery:LSVAB2180E2000001',
        advisorUserid: 'zhangwei',
      }),
    ]);
    await VehicleModel.updateOne({ _id: vehicle._id }, { $set: { deliveryDate: new Date('2026-05-01T16:00:00Z') } });
    await handleDomainEvent(h.deps, event('customer.anchor_changed', id, { field: 'deliveryDate', vin: vehicle.vin }));
    const moved = await ScheduleModel.find({}).lean();
    expect(moved).toEqual([
      expect.objectContaining({ _id: first[0]?._id, status: 'planned', dueAt: new Date('2026-09-29T02:00:00.000Z') }),
    ]);
    await handleDomainEvent(h.deps, event('customer.lost', id));
    expect(await ScheduleModel.countDocuments({ status: 'cancelled' })).toBe(1);
  });
});

describe('customer messages', () => {
  const messageRule = {
    name: '保客关怀',
    trigger: { type: 'customer.tag_added' as const, tag: { group: '客户阶段', name: '保客' } },
    actions: [{ type: 'message_customer' as const, text: '感谢您选择我们' }],
  };

  it('quiet hours move a message from 22:30 to 09:00 the next day; the sweep then creates one task and a card for the advisor', async () => {
    await createRule(messageRule);
    const id = await customer();
    h.clock.set(Date.parse('2026-05-10T14:30:00Z')); // 22:30 local
    await handleDomainEvent(h.deps, event('customer.tag_added', id, { tagId: await tagId('客户阶段', '保客') }));
    const [schedule] = await ScheduleModel.find({}).lean();
    expect(schedule).toMatchObject({
      kind: 'rule_action',
      actionIndex: 0,
      dueAt: new Date('2026-05-11T01:00:00.000Z'),
      status: 'planned',
    });
    expect(calls('externalcontact/add_msg_template')).toHaveLength(0);
    h.clock.set(Date.parse('2026-05-11T01:00:00Z'));
    expect(await runSweep({ queues: h.deps.queues, now: h.clock.now() })).toEqual({ enqueued: 1, recovered: 0 });
    expect(await fireRuleActionSchedule(h.deps, String(schedule?._id))).toBe('fired');
    const [batch] = await MessageBatchModel.find({}).lean();
    expect(await flushBatch(h.deps, String(batch?._id))).toEqual({ status: 'created', recipients: 1 });
    expect(calls('externalcontact/add_msg_template')).toEqual([
      expect.objectContaining({ body: expect.objectContaining({ sender: 'zhangwei', external_userid: [ext2] }) }),
    ]);
    expect(calls('message/send')).toHaveLength(1);
  });

  it("a rule without quiet hours of its own follows the corp's; one that switched them off does not wait", async () => {
    const corpDeps = { ...h.deps, quietHours: { start: '20:00', end: '10:00' } };
    await createRule(messageRule);
    await createRule({ ...messageRule, name: '保客关怀（全天）', guards: { quietHours: null } });
    const id = await customer();
    h.clock.set(Date.parse('2026-05-10T14:30:00Z')); // 22:30 local
    await handleDomainEvent(corpDeps, event('customer.tag_added', id, { tagId: await tagId('客户阶段', '保客') }));
    const schedules = await ScheduleModel.find({}).lean();
    expect(schedules).toEqual([
      expect.objectContaining({ kind: 'rule_action', dueAt: new Date('2026-05-11T02:00:00.000Z') }),
    ]); // 10:00 local
    expect(await MessageBatchModel.countDocuments({})).toBe(1);
  });

  it('the monthly cap stops the fifth message in a month', async () => {
    await createRule(messageRule);
    const id = await customer();
    for (let i = 0; i < 4; i++) {
      await MessageRecipientModel.create({
        key: `prior-${i}`,
        batchId: id,
        corpId: DEMO_CORP_ID,
        customerId: id,
        externalUserId: ext2,
        sender: 'zhangwei',
        monthKey: '2026-05',
        status: 'sent',
      });
    }
    await handleDomainEvent(h.deps, event('customer.tag_added', id, { tagId: await tagId('客户阶段', '保客') }));
    const [exec] = await ExecutionModel.find({}).lean();
    expect(exec?.actions[0]).toMatchObject({ status: 'skipped', reason: 'monthly_cap' });
    expect(await MessageBatchModel.countDocuments({})).toBe(0);
  });

  it('an opted-out customer receives nothing, and a task already pending for them is cancelled', async () => {
    await createRule(messageRule);
    const id = await customer();
    await handleDomainEvent(h.deps, event('customer.tag_added', id, { tagId: await tagId('客户阶段', '保客') }));
    const [batch] = await MessageBatchModel.find({}).lean();
    await flushBatch(h.deps, String(batch?._id));
    await CustomerModel.updateOne({ _id: id }, { $set: { optOut: { value: true, source: 'test' } } });
    await pollBatch(h.deps, String(batch?._id), 1);
    expect(calls('externalcontact/cancel_groupmsg_send')).toHaveLength(1);
    expect(await MessageRecipientModel.findOne({ customerId: id }).lean()).toMatchObject({
      status: 'cancelled',
      reason: 'opted_out',
    });

    await handleDomainEvent(
      h.deps,
      event('customer.tag_added', id, { tagId: await tagId('客户阶段', '保客') }, '2026-05-10T03:00:00.000Z'),
    );
    expect((await ExecutionModel.find({}).sort({ createdAt: 1 }).lean())[1]?.actions[0]).toMatchObject({
      status: 'skipped',
      reason: 'opted_out',
    });
  });
});

describe('inactivity rules', () => {
  it('fire once per quiet episode: a customer never followed up, and again only after a new completion goes quiet', async () => {
    await createRule({
      name: '久未跟进提醒',
      trigger: { type: 'inactivity', days: 90 },
      actions: [{ type: 'notify_advisor', text: '该客户已 90 天没有跟进' }],
    });
    const quiet = await customer();
    const recent = String(
      (
        await CustomerModel.create({
          corpId: DEMO_CORP_ID,
          externalUserId: 'wmInactivityRecent0001',
          responsibleUserid: 'zhangwei',
          lifecycle: { stage: 'owner', reason: 'test' },
        })
      )._id,
    );
    await RelationshipModel.create({
      corpId: DEMO_CORP_ID,
      userid: 'zhangwei',
      externalUserId: 'wmInactivityRecent0001',
      customerId: recent,
      status: 'active',
    });
    await CustomerModel.collection.updateMany(
      { corpId: DEMO_CORP_ID },
      { $set: { createdAt: new Date('2026-01-05T02:00:00Z') } },
    );
    const doneAt = new Date('2026-04-01T02:00:00Z');
    await TaskModel.create({
      corpId: DEMO_CORP_ID,
      customerId: recent,
      advisorUserid: 'zhangwei',
      title: '回访',
      dueAt: doneAt,
      slaMs: 86_400_000,
      ladder: { escalateAfterMs: 1, flagAfterMs: 2 },
      remindAt: doneAt,
      status: 'done',
      completedAt: doneAt,
    });

    expect(await evaluateInactivityRules(h.deps)).toMatchObject({ rules: 1, ran: 1 });
    expect(await evaluateInactivityRules(h.deps)).toMatchObject({ ran: 0 });
    const fired = await ExecutionModel.find({ trigger: 'inactivity' }).lean();
    expect(fired.map((e) => [e.subject, e.occurrenceId])).toEqual([[quiet, 'inactive:90:never']]);

    // 91 days after the other customer's last completion, it goes quiet too: one more firing.
    h.clock.set(doneAt.getTime() + 91 * 86_400_000);
    expect(await evaluateInactivityRules(h.deps)).toMatchObject({ ran: 1 });
    expect(
      (await ExecutionModel.find({ trigger: 'inactivity', subject: recent }).lean()).map((e) => e.occurrenceId),
    ).toEqual([`inactive:90:${doneAt.getTime()}`]);
  });
});

describe('the sweep', () => {
  it('a crash between enqueueing and marking loses and duplicates nothing', async () => {
    const id = await customer();
    for (let i = 0; i < 5; i++)
      await ScheduleModel.create({
        key: `k${i}`,
        corpId: DEMO_CORP_ID,
        customerId: id,
        kind: 'rule_action',
        occurrenceId: `o${i}`,
        dueAt: new Date('2026-05-10T01:00:00Z'),
      });
    await expect(
      runSweep({
        queues: h.deps.queues,
        now: h.clock.now(),
        afterEnqueue: () => Promise.reject(new Error('worker killed')),
      }),
    ).rejects.toThrow('worker killed');
    expect(await ScheduleModel.countDocuments({ status: 'planned' })).toBe(5);
    expect(await runSweep({ queues: h.deps.queues, now: h.clock.now() })).toEqual({ enqueued: 5, recovered: 0 });
    const jobs = await h.deps.queues.get(QueueName.scheduled).getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs).toHaveLength(5);
    expect(await ScheduleModel.countDocuments({ status: 'enqueued' })).toBe(5);
  });
});

describe('department conditions', () => {
  it("the worker's copy of the advisor's departments serves the condition, and a department move is used from the next event on", async () => {
    await AdvisorModel.updateOne(
      { corpId: DEMO_CORP_ID, userid: 'zhangwei' },
      { $set: { departments: [2] } },
      { upsert: true },
    );
    const rule = await createRule({
      name: '售后新客',
      trigger: { type: 'customer.added' },
      conditions: { departments: [3] },
      actions: [{ type: 'notify_advisor', text: '售后新客' }],
    });
    const id = await customer();
    const reads = new CorpReadCache();
    const deps = { ...h.deps, reads };
    const find = vi.spyOn(AdvisorModel, 'find');
    try {
      expect(await handleDomainEvent(deps, event('customer.added', id))).toEqual([
        { ruleId: rule.id, outcome: 'conditions_failed' },
      ]);
      // The same advisor adds again (a re-add): the departments come from the copy, no read.
      await ExecutionModel.deleteMany({});
      expect(await handleDomainEvent(deps, event('customer.added', id))).toEqual([
        { ruleId: rule.id, outcome: 'conditions_failed' },
      ]);
      expect(find).toHaveBeenCalledTimes(1);
      // Moved to 售后 (what the directory sync writes): the next event has it.
      await AdvisorModel.updateOne({ corpId: DEMO_CORP_ID, userid: 'zhangwei' }, { $set: { departments: [3] } });
      await ExecutionModel.deleteMany({});
      expect(await handleDomainEvent(deps, event('customer.added', id))).toEqual([{ ruleId: rule.id, outcome: 'ran' }]);
      expect(find).toHaveBeenCalledTimes(2);
    } finally {
      find.mockRestore();
      reads.close();
      await AdvisorModel.deleteMany({ corpId: DEMO_CORP_ID });
    }
  });
});

describe('executions without a claim', () => {
  const tagRule = () =>
    createRule({
      name: '加好友打标',
      trigger: { type: 'customer.added' },
      actions: [
        { type: 'tag', add: [{ group: '客户阶段', name: '保客' }] },
        { type: 'follow_up', title: '首次回访', dueIn: '1d' },
      ],
    });
  const executionCommands = (commands: string[]) => commands.filter((c) => c.startsWith('rule_executions '));

  it('a rule whose actions are all safe to repeat writes its record in one command; a redelivery repeats them harmlessly', async () => {
    const rule = await tagRule();
    const id = await customer();
    const e = event('customer.added', id);
    const first = await countingCommands(() => handleDomainEvent(h.deps, e));
    expect(first.result).toEqual([{ ruleId: rule.id, outcome: 'ran' }]);
    expect(executionCommands(first.commands)).toEqual(['rule_executions findOneAndUpdate']);
    const [record] = await ExecutionModel.find({ ruleId: rule.id }).lean();
    expect(record).toMatchObject({
      status: 'done',
      ruleVersion: 1,
      trigger: 'customer.added',
      actions: [
        { index: 0, type: 'tag', status: 'done', attempts: 1, refs: { relationships: 1 } },
        { index: 1, type: 'follow_up', status: 'scheduled', attempts: 1, refs: { scheduleId: expect.any(String) } },
      ],
    });
    expect(await new ExecutionModel(record).validate()).toBeUndefined();

    const again = await handleDomainEvent(h.deps, e);
    expect(again).toEqual([{ ruleId: rule.id, outcome: 'duplicate' }]);
    expect(await ExecutionModel.find({ ruleId: rule.id }).lean()).toEqual([record]);
    expect(calls('externalcontact/mark_tag')).toHaveLength(1);
    expect(await ScheduleModel.countDocuments({ ruleId: rule.id, kind: 'follow_up' })).toBe(1);
  });

  it('a failing action leaves the record running with what finished; the retry finishes it', async () => {
    const rule = await tagRule();
    const id = await customer();
    const e = event('customer.added', id);
    const schedules = ScheduleModel.collection;
    const plan = vi.spyOn(schedules, 'findOneAndUpdate').mockRejectedValueOnce(new Error('schedules down'));
    await expect(handleDomainEvent(h.deps, e)).rejects.toThrow('schedules down');
    plan.mockRestore();
    const failed = await ExecutionModel.findOne({ ruleId: rule.id }).lean();
    expect(failed?.status).toBe('running');
    expect(failed?.actions.map((a) => `${a.status}/${a.attempts}`)).toEqual(['done/1', 'pending/0']);
    expect(await handleDomainEvent(h.deps, e)).toEqual([{ ruleId: rule.id, outcome: 'ran' }]);
    const done = await ExecutionModel.findOne({ ruleId: rule.id }).lean();
    expect(done?.status).toBe('done');
    expect(done?.actions.map((a) => `${a.status}/${a.attempts}`)).toEqual(['done/2', 'scheduled/1']);
    expect(calls('externalcontact/mark_tag')).toHaveLength(1);
  });

  it('a skip by conditions is recorded in one command, and a replay of it stays a duplicate', async () => {
    await AdvisorModel.updateOne(
      { corpId: DEMO_CORP_ID, userid: 'zhangwei' },
      { $set: { departments: [2] } },
      { upsert: true },
    );
    const rule = await createRule({
      name: '售后打标',
      trigger: { type: 'customer.added' },
      conditions: { departments: [3] },
      actions: [{ type: 'tag', add: [{ group: '客户阶段', name: '保客' }] }],
    });
    const id = await customer();
    const e = event('customer.added', id);
    const sent = await countingCommands(() => handleDomainEvent(h.deps, e));
    expect(sent.result).toEqual([{ ruleId: rule.id, outcome: 'conditions_failed' }]);
    expect(executionCommands(sent.commands)).toEqual(['rule_executions findOneAndUpdate']);
    const records = await ExecutionModel.find({ ruleId: rule.id }).lean();
    expect(records).toEqual([
      expect.objectContaining({
        status: 'skipped',
        reason: expect.stringMatching(/^conditions: /),
        actions: [expect.objectContaining({ status: 'pending', attempts: 0 })],
      }),
    ]);
    expect(await handleDomainEvent(h.deps, e)).toEqual([{ ruleId: rule.id, outcome: 'duplicate' }]);
    expect(await ExecutionModel.find({ ruleId: rule.id }).lean()).toEqual(records);
    expect(calls('externalcontact/mark_tag')).toHaveLength(0);
  });

  it('a rule with a notice to the advisor still claims its execution first', async () => {
    const rule = await createRule({
      name: '加好友提醒',
      trigger: { type: 'customer.added' },
      actions: [
        { type: 'tag', add: [{ group: '客户阶段', name: '保客' }] },
        { type: 'notify_advisor', text: '新客户' },
      ],
    });
    const id = await customer();
    const sent = await countingCommands(() => handleDomainEvent(h.deps, event('customer.added', id)));
    expect(sent.result).toEqual([{ ruleId: rule.id, outcome: 'ran' }]);
    expect(executionCommands(sent.commands)).toEqual([
      'rule_executions findOneAndUpdate',
      'rule_executions updateOne',
      'rule_executions updateOne',
    ]);
    expect(await ExecutionModel.findOne({ ruleId: rule.id }).lean()).toMatchObject({ status: 'done' });
  });
});
