/**
 * Follow-up tasks (docs/tasks.md) end to end: rules plan follow-ups, the sweep fires them, tasks and cards, clicks,
 * the SLA ladder, transfers, losses and digests — the whole bot with one ManualClock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { DomainEventRecordModel } from '../../src/domain/events/domain-event-record.model.js';
import { RuleService } from '../../src/domain/rules/rule.service.js';
import { ruleCreateSchema } from '../../src/domain/rules/rule.schema.js';
import { ScheduleModel } from '../../src/domain/schedules/schedule.model.js';
import { planSchedule } from '../../src/domain/schedules/schedule.service.js';
import { runSweep } from '../../src/domain/schedules/sweep.js';
import { runTaskTickExclusive } from '../../src/domain/tasks/task-tick.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { startTransfer } from '../../src/domain/tasks/transfer.service.js';
import { TransferModel } from '../../src/domain/tasks/transfer.model.js';
import { vehicleInputSchema } from '../../src/domain/vehicles/vehicle-input.js';
import { upsertVehicle } from '../../src/domain/vehicles/vehicle.service.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { taskDepsFor } from '../processors/tasks.handlers.js';
import { startBotHarness, type BotHarness } from './bot.test-support.js';
import { waitFor } from '../../src/testing/wait.js';

const HOUR = 3_600_000;
/** 2026-06-01 10:00 Asia/Shanghai. */
const START = Date.parse('2026-06-01T02:00:00Z');
const local = (iso: string) => Date.parse(`${iso}+08:00`);

let bot: BotHarness;
let vinSeq = 0;
beforeAll(async () => {
  bot = await startBotHarness({ startAt: START, tuning: { notifyDebounceMs: 300 } });
  const admin = { role: 'admin' as const, corps: '*' as const, tokenId: 'e2e' };
  const rules = new RuleService(() => bot.clock.now());
  await rules.create(
    admin,
    ruleCreateSchema.parse({
      name: '交车次日关怀',
      scope: bot.corpId,
      enabled: true,
      trigger: { type: 'date', field: 'deliveryDate', offset: '+1d at 10:00' },
      actions: [
        {
          type: 'follow_up',
          title: '交车次日回访',
          talkTrack: '{客户}您好，{车型}开得还习惯吗？',
          sla: '24h',
          escalation: { after: '59h', to: 'direct_leader' },
        },
      ],
    }),
  );
}, 60_000);
afterAll(async () => {
  await bot?.stop();
});

const world = () => {
  const corp = bot.sandbox.world.corp(bot.corpId);
  if (!corp) throw new Error('no demo corp in the sandbox');
  return corp;
};
const cardsTo = (userid: string) =>
  world().messages.filter((m) => m.msgtype === 'template_card' && m.touser.includes(userid));
const tick = async () => {
  const deps = taskDepsFor(bot.ctx, bot.corpId, bot.ctx.logger);
  if (!deps) throw new Error('no task deps');
  const out = await runTaskTickExclusive(bot.ctx.redis, bot.ctx.config.redis.queuePrefix, [deps], { waitMs: 15_000 });
  await bot.settle("the tick's consequences");
  return out;
};
const sweepAt = async (ms: number) => {
  bot.clock.set(ms);
  await runSweep({ queues: bot.ctx.queues, now: bot.clock.now() });
  await bot.settle('fired schedules and their cards');
};

/** A customer of `userid` delivered on `delivery` (local date): the rule plans delivery + 1 day 10:00. */
async function deliveredCustomer(
  userid: string,
  delivery: string,
  name: string,
): Promise<{ customerId: string; externalUserId: string }> {
  const { externalUserId } = await bot.sandbox.driver.addCustomer({ corpId: bot.corpId, userid, customer: { name } });
  await bot.settle('the add');
  vinSeq++;
  await upsertVehicle(
    {
      corpId: bot.corpId,
      timeZone: 'Asia/Shanghai',
      pd: bot.ctx.pd,
      queues: bot.ctx.queues,
      now: () => bot.clock.now(),
    },
    vehicleInputSchema.parse({
      vin: `LVSHCAME0PE1000${String(vinSeq).padStart(2, '0')}`,
      model: '星途瑶光',
      deliveryDate: delivery,
      externalUserId,
      salesUserid: userid,
    }),
    'api',
  );
  await bot.settle('the vehicle link and planning');
  const customer = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId }).lean();
  return { customerId: String(customer?._id), externalUserId };
}

describe('a follow-up from rule to done', () => {
  it('plans at delivery + 1 day 10:00, fires once, sends the card, and a double click completes it once', async () => {
    const { customerId } = await deliveredCustomer('zhangwei', '2026-06-01', '测试客户任务甲');
    const [schedule] = await ScheduleModel.find({
      customerId: new Types.ObjectId(customerId),
      kind: 'follow_up',
    }).lean();
    expect(schedule?.dueAt.getTime()).toBe(local('2026-06-02T10:00:00'));
    expect(schedule?.status).toBe('planned');

    await sweepAt(local('2026-06-02T10:00:00'));
    const tasks = await TaskModel.find({ customerId: new Types.ObjectId(customerId) }).lean();
    expect(tasks).toHaveLength(1);
    const task = tasks[0];
    expect(task).toMatchObject({
      status: 'open',
      advisorUserid: 'zhangwei',
      title: '交车次日回访',
      escalationLevel: 0,
      reason: '交车次日关怀',
    });
    expect(JSON.stringify(task)).not.toContain('测试客户任务甲');
    expect((await ScheduleModel.findById(schedule?._id).lean())?.status).toBe('fired');

    const card = cardsTo('zhangwei').find((m) => m.taskId === `tk-${String(task?._id)}-1`);
    expect(card).toBeDefined();
    const body = JSON.stringify(card?.body);
    expect(body).toContain('测试客户任务甲您好，星途瑶光开得还习惯吗？');
    expect(body).toContain(`/console/m/tasks/${String(task?._id)}`);

    bot.clock.advance(2 * HOUR);
    const click = await bot.sandbox.driver.clickCardButton({
      corpId: bot.corpId,
      userid: 'zhangwei',
      taskId: card?.taskId ?? '',
      eventKey: 'done:appointment_booked',
    });
    await bot.settle('the click');
    const done = await TaskModel.findById(task?._id).lean();
    expect(done).toMatchObject({ status: 'done', outcome: 'appointment_booked' });
    const updates = world().cardUpdates.filter((u) => u.responseCode === click.responseCode);
    expect(updates).toHaveLength(1);
    expect(JSON.stringify(updates[0]?.body)).toContain('已预约到店');

    // WeCom repeats the same click callback: nothing more happens.
    await bot.sandbox.driver.redeliver(click.delivery?.id ?? -1);
    await bot.settle('the repeated click');
    const again = await TaskModel.findById(task?._id).lean();
    expect(again?.history.filter((h) => h.action === 'completed')).toHaveLength(1);
    expect(world().cardUpdates.filter((u) => u.taskId === card?.taskId)).toHaveLength(1);
    expect(await DomainEventRecordModel.countDocuments({ type: 'task.completed', taskId: String(task?._id) })).toBe(1);
  });

  it("a task left open: the reminder at due + SLA, the leader's card at the next working start", async () => {
    const { customerId } = await deliveredCustomer('lina', '2026-06-04', '测试客户任务乙');
    await sweepAt(local('2026-06-05T10:00:00'));
    const task = await TaskModel.findOne({ customerId: new Types.ObjectId(customerId) }).lean();
    expect(cardsTo('lina').some((m) => m.taskId === `tk-${String(task?._id)}-1`)).toBe(true);

    /** The task as it stands after the minute tick at local time `at`. */
    const taskAt = async (at: string) => {
      bot.clock.set(local(at));
      await tick();
      return TaskModel.findById(task?._id).lean();
    };
    expect((await taskAt('2026-06-06T09:59:00'))?.escalationLevel).toBe(0);
    expect((await taskAt('2026-06-06T10:00:00'))?.escalationLevel).toBe(1);
    expect(cardsTo('lina').some((m) => m.taskId === `tk-${String(task?._id)}-2`)).toBe(true);

    // due + 59 h = 06-07 21:00, after working hours: the leader hears at 08:30 the next morning.
    expect((await taskAt('2026-06-07T21:00:00'))?.escalationLevel).toBe(1);
    const escalated = await taskAt('2026-06-08T08:30:00');
    expect(escalated?.escalationLevel).toBe(2);
    const leaderCard = cardsTo('wangqiang').find((m) => m.taskId === `te-${String(task?._id)}-2`);
    expect(JSON.stringify(leaderCard?.body)).toContain('测试客户任务乙');
    expect(JSON.stringify(leaderCard?.body)).toContain('李娜');
    expect(escalated?.history.map((h) => h.action)).toEqual(
      expect.arrayContaining(['created', 'card_sent', 'reminded', 'escalated']),
    );
  });

  it('a task still open at the third threshold is flagged; the leader reassigns it from the card and the taker is told', async () => {
    const { customerId } = await deliveredCustomer('liuyang', '2026-07-01', '测试客户任务改派');
    await sweepAt(local('2026-07-02T10:00:00'));
    const task = await TaskModel.findOne({ customerId: new Types.ObjectId(customerId) }).lean();
    // The rule (or the corp's reassignOnFlag) offers a reassignment at level 3.
    await TaskModel.updateOne({ _id: task?._id }, { $set: { 'ladder.reassign': true } });
    for (let day = 1; day <= 6 && (await TaskModel.findById(task?._id).lean())?.escalationLevel !== 3; day++) {
      bot.clock.set(local('2026-07-02T10:00:00') + day * 24 * HOUR);
      await tick();
    }
    const flagged = await TaskModel.findById(task?._id).lean();
    expect(flagged).toMatchObject({ escalationLevel: 3, flagged: true, advisorUserid: 'liuyang' });
    const leaderCard = cardsTo('wangqiang').find((m) => m.taskId === `te-${String(task?._id)}-3`);
    expect(JSON.stringify(leaderCard?.body)).toContain('改派');

    const before = cardsTo('zhangwei').length;
    await bot.sandbox.driver.clickCardButton({
      corpId: bot.corpId,
      userid: 'wangqiang',
      taskId: leaderCard?.taskId ?? '',
      eventKey: 'reassign',
      selectedItems: [{ questionKey: 'advisor', optionIds: ['zhangwei'] }],
    });
    await bot.settle('the reassignment');
    const moved = await TaskModel.findById(task?._id).lean();
    expect(moved).toMatchObject({ status: 'open', advisorUserid: 'zhangwei' });
    expect(moved?.history.map((h) => [h.actor, h.action])).toContainEqual(['wecom:wangqiang', 'reassigned']);
    await waitFor(() => cardsTo('zhangwei').length > before, "the taker's card");
  });

  it('an advisor texts 任务, then 完成 1; unknown text gets the help', async () => {
    const texts = () =>
      world()
        .messages.filter((m) => m.msgtype === 'text' && m.touser.includes('lina'))
        .map((m) => JSON.stringify(m.body));
    const before = texts().length;
    await bot.sandbox.driver.memberTextsApp({ corpId: bot.corpId, userid: 'lina', content: '任务' });
    await bot.settle('the list');
    const open = await TaskModel.find({ advisorUserid: 'lina', status: 'open' }).lean();
    expect(open).toHaveLength(1);
    expect(texts()[before]).toContain('1. 交车次日回访 · 测试客户任务乙');
    await bot.sandbox.driver.memberTextsApp({ corpId: bot.corpId, userid: 'lina', content: '完成 1 预约' });
    await bot.settle('the completion');
    expect(await TaskModel.findById(open[0]?._id).lean()).toMatchObject({
      status: 'done',
      outcome: 'appointment_booked',
    });
    await bot.sandbox.driver.memberTextsApp({ corpId: bot.corpId, userid: 'lina', content: 'hello' });
    await bot.settle('the help');
    expect(texts().at(-1)).toContain('完成 3');
  });
});

describe('customers moving and leaving', () => {
  it('an in-service transfer moves open tasks to the taker only on success; a refused one keeps them', async () => {
    bot.clock.set(local('2026-06-10T09:00:00'));
    const moved = await deliveredCustomer('liuyang', '2026-06-10', '测试客户转接甲');
    const refused = await deliveredCustomer('liuyang', '2026-06-10', '测试客户转接乙');
    await sweepAt(local('2026-06-11T10:00:00'));
    const deps = taskDepsFor(bot.ctx, bot.corpId, bot.ctx.logger);
    if (!deps) throw new Error('no deps');
    const transfer = await startTransfer(
      deps,
      {
        kind: 'in_service',
        handoverUserid: 'liuyang',
        takeoverUserid: 'zhangwei',
        externalUserIds: [moved.externalUserId, refused.externalUserId, 'wmNoSuchCustomer'],
      },
      'e2e',
    );
    expect(transfer.customers.map((c) => c.result)).toEqual(['waiting', 'waiting', 'failed_to_start']);
    expect(transfer.customers[2]?.explanation).toContain('无效');

    await bot.sandbox.driver.transferFails({
      corpId: bot.corpId,
      userid: 'zhangwei',
      externalUserId: refused.externalUserId,
      reason: 'customer_refused',
    });
    await bot.settle();
    bot.clock.advance(25 * HOUR);
    await tick();
    await bot.settle('transfer consequences');
    const after = await TransferModel.findById(transfer._id).lean();
    expect(after?.customers.map((c) => c.result)).toEqual(['succeeded', 'refused', 'failed_to_start']);
    expect(after?.status).toBe('finished');
    expect((await TaskModel.findOne({ customerId: new Types.ObjectId(moved.customerId) }).lean())?.advisorUserid).toBe(
      'zhangwei',
    );
    expect((await CustomerModel.findById(moved.customerId).lean())?.responsibleUserid).toBe('zhangwei');
    expect(
      (await TaskModel.findOne({ customerId: new Types.ObjectId(refused.customerId) }).lean())?.advisorUserid,
    ).toBe('liuyang');
  });

  it('del_follow_user cancels the open tasks', async () => {
    bot.clock.set(local('2026-06-12T09:00:00'));
    const c = await deliveredCustomer('zhangwei', '2026-06-12', '测试客户流失');
    await sweepAt(local('2026-06-13T10:00:00'));
    expect((await TaskModel.findOne({ customerId: new Types.ObjectId(c.customerId) }).lean())?.status).toBe('open');
    await bot.sandbox.driver.customerDeletesAdvisor({
      corpId: bot.corpId,
      userid: 'zhangwei',
      externalUserId: c.externalUserId,
    });
    await bot.settle('the loss');
    expect((await TaskModel.findOne({ customerId: new Types.ObjectId(c.customerId) }).lean())?.status).toBe(
      'cancelled',
    );
  });

  it('a resigned transfer moves the open tasks of an advisor who left', async () => {
    bot.clock.set(local('2026-06-14T09:00:00'));
    const c = await deliveredCustomer('liuyang', '2026-06-14', '测试客户离职');
    await sweepAt(local('2026-06-15T10:00:00'));
    await bot.sandbox.driver.changeMember({ corpId: bot.corpId, change: 'delete_user', userid: 'liuyang' });
    await bot.settle();
    const deps = taskDepsFor(bot.ctx, bot.corpId, bot.ctx.logger);
    if (!deps) throw new Error('no deps');
    const transfer = await startTransfer(
      deps,
      { kind: 'resigned', handoverUserid: 'liuyang', takeoverUserid: 'lina', externalUserIds: [c.externalUserId] },
      'e2e',
    );
    expect(transfer.customers[0]?.result).toBe('waiting');
    bot.clock.advance(25 * HOUR);
    await tick();
    await bot.settle();
    expect((await TaskModel.findOne({ customerId: new Types.ObjectId(c.customerId) }).lean())?.advisorUserid).toBe(
      'lina',
    );
  });

  it('an advisor who left gets no card and no reminder (WeCom 81013), the tick goes on, and their leader still hears of the task', async () => {
    // liuyang left in the test above; a follow-up planned for them before that still falls due.
    const customer = await CustomerModel.create({
      corpId: bot.corpId,
      externalUserId: `wmLeft${new Types.ObjectId().toHexString()}`,
      responsibleUserid: 'liuyang',
    });
    const due = new Date(local('2026-06-18T10:00:00'));
    const { id } = await planSchedule({
      corpId: bot.corpId,
      customerId: String(customer._id),
      kind: 'follow_up',
      occurrenceId: 'left-advisor:1',
      dueAt: due,
      advisorUserid: 'liuyang',
      payload: { title: '离职顾问的回访', sla: '24h', escalation: { after: '59h', to: 'direct_leader' } },
    });
    await sweepAt(due.getTime());
    await tick();
    const taskOf = async () => TaskModel.findOne({ scheduleId: new Types.ObjectId(id) }).lean();
    expect(await taskOf()).toMatchObject({ status: 'open', advisorUserid: 'liuyang', notifyPending: false });
    expect((await taskOf())?.history.map((h) => h.action)).toContain('card_undeliverable');
    bot.clock.set(local('2026-06-19T10:30:00')); // past due + SLA: the reminder cannot reach them
    await tick();
    const reminded = await taskOf();
    expect(reminded?.escalationLevel).toBe(1);
    expect(reminded?.history.at(-1)).toMatchObject({
      action: 'reminded',
      detail: { notified: [], undeliverable: true },
    });
    bot.clock.set(local('2026-06-21T09:00:00')); // past due + 59 h (21:00, moved to the next working morning): the leader's card
    await tick();
    expect((await taskOf())?.escalationLevel).toBe(2);
    expect(cardsTo('wangqiang').some((m) => m.taskId === `te-${String(reminded?._id)}-2`)).toBe(true);
  });
});

describe('many at once and crashes', () => {
  async function plainCustomer(): Promise<string> {
    const doc = await CustomerModel.create({
      corpId: bot.corpId,
      externalUserId: `wmBulk${new Types.ObjectId().toHexString()}`,
      responsibleUserid: 'chenjing',
    });
    return String(doc._id);
  }
  async function planMany(n: number, dueAt: Date, advisor = 'chenjing'): Promise<string[]> {
    const customerId = await plainCustomer();
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(
        (
          await planSchedule({
            corpId: bot.corpId,
            customerId,
            kind: 'follow_up',
            occurrenceId: `bulk:${dueAt.getTime()}:${i}`,
            dueAt,
            advisorUserid: advisor,
            payload: { title: `批量任务 ${i}` },
          })
        ).id,
      );
    }
    return ids;
  }

  it('40 tasks due at once for one advisor produce one digest, not 40 cards', async () => {
    const due = new Date(local('2026-06-20T10:00:00'));
    const cardsBefore = cardsTo('chenjing').length;
    const ids = await planMany(40, due);
    await sweepAt(due.getTime());
    expect(await TaskModel.countDocuments({ scheduleId: { $in: ids.map((id) => new Types.ObjectId(id)) } })).toBe(40);
    const digests = world().messages.filter((m) => m.msgtype === 'markdown' && m.touser.includes('chenjing'));
    expect(digests).toHaveLength(1);
    expect(JSON.stringify(digests[0]?.body)).toContain('40');
    expect(cardsTo('chenjing').length).toBe(cardsBefore);
  });

  it('a sweep stopped between enqueueing and marking, then run again: every due schedule is exactly one task', async () => {
    const due = new Date(local('2026-06-21T10:00:00'));
    const ids = await planMany(30, due, 'zhangwei');
    bot.clock.set(due);
    await expect(
      runSweep({
        queues: bot.ctx.queues,
        now: bot.clock.now(),
        batchSize: 10,
        afterEnqueue: () => Promise.reject(new Error('worker killed')),
      }),
    ).rejects.toThrow('worker killed');
    await runSweep({ queues: bot.ctx.queues, now: bot.clock.now() });
    await runSweep({ queues: bot.ctx.queues, now: bot.clock.now() });
    await bot.settle('all fired schedules');
    const oids = ids.map((id) => new Types.ObjectId(id));
    expect(await TaskModel.countDocuments({ scheduleId: { $in: oids } })).toBe(30);
    expect(await ScheduleModel.countDocuments({ _id: { $in: oids }, status: 'fired' })).toBe(30);
  });

  it('jobs lost from Redis after marking are recovered by the sweep: still exactly one task each', async () => {
    const due = new Date(local('2026-06-22T10:00:30'));
    const ids = await planMany(10, due, 'zhangwei');
    bot.clock.set(local('2026-06-22T10:00:00'));
    await runSweep({ queues: bot.ctx.queues, now: bot.clock.now() }); // delayed 30 s (real) in the queue
    const queue = bot.ctx.queues.get(QueueName.scheduled);
    // Follow-ups due together are one batch job (docs/tasks.md), whose id the schedules hold.
    const marked = await ScheduleModel.find(
      { _id: { $in: ids.map((id) => new Types.ObjectId(id)) } },
      { jobId: 1 },
    ).lean();
    const jobIds = new Set(marked.map((s) => s.jobId ?? `sched-${String(s._id)}`));
    expect(jobIds.size).toBe(1);
    for (const jobId of jobIds) await queue.remove(jobId);
    bot.clock.set(local('2026-06-22T10:15:00'));
    const { recovered } = await runSweep({ queues: bot.ctx.queues, now: bot.clock.now() });
    expect(recovered).toBe(10);
    await bot.settle('recovered schedules');
    expect(await TaskModel.countDocuments({ scheduleId: { $in: ids.map((id) => new Types.ObjectId(id)) } })).toBe(10);
  });
});
