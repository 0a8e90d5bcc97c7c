/**
 * Broadcasts through the WeCom sandbox: approved, postponed by quiet hours, one add_msg_template
 * per advisor, an opted-out customer blocked, advisors confirming in the sandbox; the unconfirmed
 * ones reminded once and given one confirmation task, which closes when the advisor confirms and
 * otherwise reaches the manager through the task ladder's sweep; cancellation stopping the rest
 * and cancelling the task; a send unconfirmed for a week no longer tracked; a broadcast to owner
 * groups; every customer send recorded as a broadcast message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomerModel } from '../customers/customer.model.js';
import type { CustomerHarness } from '../customers/customer.test-support.js';
import { GroupModel } from '../groups/group.model.js';
import { refreshGroup } from '../groups/group-refresh.service.js';
import { MessageBatchModel, MessageRecipientModel } from '../messages/message.model.js';
import { runLadder } from '../tasks/escalation.js';
import { deliverPending } from '../tasks/task-notify.js';
import { TaskModel } from '../tasks/task.model.js';
import type { TaskDeps } from '../tasks/task-deps.js';
import { createSegment, updateSegment } from '../segments/segment.service.js';
import { createBroadcast, decideBroadcast, pushOemBroadcast } from './broadcast-approval.js';
import { BroadcastModel } from './broadcast.model.js';
import { remindUnconfirmed } from './broadcast-confirm.js';
import { inHoldout, planBroadcast } from './broadcast-plan.js';
import {
  BROADCAST_TIMING,
  cancelBroadcast,
  pollBroadcast,
  sendBroadcast,
  type BroadcastDeps,
} from './broadcast.service.js';
import { startBroadcastHarness } from './broadcast.test-support.js';

let h: CustomerHarness;
let corpId: string;
let deps: BroadcastDeps;
let taskDeps: TaskDeps;
const ext = (i: number) => `wmBroadcast${String(i).padStart(20, '0')}`;

beforeAll(async () => {
  ({ h, corpId, deps } = await startBroadcastHarness('broadcasts', {
    department: '销售一部',
    advisors: [
      { userid: 'zhangwei', name: '张伟' },
      { userid: 'lina', name: '李娜' },
    ],
    customers: Array.from({ length: 6 }, (_, i) => ({ externalUserid: ext(i), advisor: i < 3 ? 'zhangwei' : 'lina' })),
  }));
  taskDeps = deps.tasks;
});

const HOUR = 3_600_000;
const confirmTasks = (broadcastId: string) =>
  TaskModel.find({ corpId, kind: 'broadcast_confirm', broadcastId }).sort({ advisorUserid: 1 }).lean();
const cardsTo = (userid: string) =>
  (h.sandbox.world.corp(corpId)?.messages ?? []).filter((m) => m.touser.includes(userid) && m.taskId);
afterAll(async () => {
  await h?.close();
});

describe('a broadcast to a segment', () => {
  it('is approved, postponed by quiet hours, then handed to each advisor with one call, the opted-out customer blocked', async () => {
    await CustomerModel.updateOne(
      { corpId, externalUserId: ext(1) },
      { $set: { optOut: { value: true, at: new Date(), source: 'test' } } },
    );
    // 22:00 in Shanghai: quiet hours.
    h.clock.set(Date.parse('2026-05-04T14:00:00Z'));
    const id = await createBroadcast(
      corpId,
      {
        name: '五一保养节',
        audience: { kind: 'segment', conditions: {} },
        content: { text: '保养节：工时 8 折', attachments: [] },
        scheduledAt: h.clock.now(),
      },
      'user:mkt',
    );
    expect(await sendBroadcast(deps, id)).toMatchObject({ status: 'pending_approval', calls: 0 });
    expect(await decideBroadcast(corpId, id, 'approve', 'user:manager1', h.clock.now())).toBe(true);
    const postponed = await sendBroadcast(deps, id);
    expect(postponed).toMatchObject({ status: 'postponed', calls: 0 });
    expect(postponed.postponedTo?.toISOString()).toBe('2026-05-05T00:00:00.000Z');
    expect(h.sandbox.world.corp(corpId)?.massTasks).toHaveLength(0);

    h.clock.set(Date.parse('2026-05-05T00:00:00Z'));
    h.sandbox.context.calls.clear();
    const sent = await sendBroadcast(deps, id);
    expect(sent).toMatchObject({ status: 'sent', calls: 2 });
    expect(h.sandbox.context.calls.list({ endpoint: 'externalcontact/add_msg_template' })).toHaveLength(2);
    const tasks = h.sandbox.world.corp(corpId)?.massTasks ?? [];
    const targeted = tasks.flatMap((t) => Object.values(t.senders).flatMap((s) => Object.keys(s.customers))).sort();
    expect(targeted).toEqual([0, 2, 3, 4, 5].map(ext).sort());
    const b = await BroadcastModel.findById(id).lean();
    expect(b?.summary).toMatchObject({ customers: 5, excluded: { opted_out: 1 } });
    const records = await MessageRecipientModel.find({ broadcastId: b?._id }).lean();
    expect(records.every((r) => r.source === 'broadcast')).toBe(true);
    expect(records.map((r) => r.externalUserId)).not.toContain(ext(1));
    // A second run (a retried job) sends nothing again.
    expect(await sendBroadcast(deps, id)).toMatchObject({ calls: 0 });

    // Nobody has confirmed yet.
    const zhangTask = tasks.find((t) => t.senders.zhangwei);
    const linaTask = tasks.find((t) => t.senders.lina);
    let progress = await pollBroadcast(deps, id);
    expect(progress.map((p) => p.state)).toEqual(['unconfirmed', 'unconfirmed']);

    // Four hours later both are reminded once, and each gets one confirmation task due at once.
    h.clock.advance(BROADCAST_TIMING.remindAfterMs - 1);
    expect(await remindUnconfirmed(deps, id)).toEqual({ reminded: [], tasksOpened: [] });
    h.clock.advance(1);
    const first = await remindUnconfirmed(deps, id);
    expect(first.reminded.sort()).toEqual(['lina', 'zhangwei']);
    expect(first.tasksOpened.sort()).toEqual(['lina', 'zhangwei']);
    expect(await remindUnconfirmed(deps, id)).toEqual({ reminded: [], tasksOpened: [] });
    // A run that stopped after the task but before recording it on the batch opens no second one.
    await MessageBatchModel.updateMany({ corpId, broadcastId: id }, { $unset: { confirmTaskId: 1 } });
    expect(await remindUnconfirmed(deps, id)).toEqual({ reminded: [], tasksOpened: [] });
    expect(zhangTask?.reminders).toHaveLength(1);
    expect(linaTask?.reminders).toHaveLength(1);
    let opened = await confirmTasks(id);
    expect(opened.map((t) => [t.advisorUserid, t.title, t.status, t.dueAt.getTime()])).toEqual([
      ['lina', '确认营销群发：五一保养节', 'open', h.clock.nowMs()],
      ['zhangwei', '确认营销群发：五一保养节', 'open', h.clock.nowMs()],
    ]);
    const linaBatch = await MessageBatchModel.findOne({ corpId, broadcastId: id, sender: 'lina' }).lean();
    expect(String(opened[0]?.messageBatchId)).toBe(String(linaBatch?._id));
    expect(opened[0]?.customerId).toBeUndefined();

    // The advisor's card is the 群发助手 hint, naming no customer.
    expect(await deliverPending(taskDeps, 'lina')).toMatchObject({ cards: 1 });
    const linaCard = cardsTo('lina').at(-1)?.body as { template_card: Record<string, unknown> };
    expect(linaCard.template_card).toMatchObject({
      card_type: 'text_notice',
      main_title: { title: '确认营销群发：五一保养节' },
      sub_title_text: expect.stringContaining('群发助手'),
      card_action: { url: `http://console.test/console/m/tasks/${String(opened[0]?._id)}` },
    });
    expect(JSON.stringify(linaCard)).not.toMatch(/客户\d/);

    // zhangwei confirms: the poll closes his task as done.
    await h.sandbox.driver.confirmMassSend({ corpId, msgid: zhangTask?.msgid ?? '', userid: 'zhangwei' });
    progress = await pollBroadcast(deps, id);
    expect(progress.find((p) => p.userid === 'zhangwei')).toMatchObject({
      state: 'sent',
      customers: { sent: 2, pending: 0 },
      taskId: String(opened[1]?._id),
    });
    expect(progress.find((p) => p.userid === 'lina')).toMatchObject({
      state: 'unconfirmed',
      customers: { pending: 3 },
      taskId: String(opened[0]?._id),
    });
    opened = await confirmTasks(id);
    expect(opened.map((t) => t.status)).toEqual(['open', 'done']);
    expect(opened[1]?.history.at(-1)).toMatchObject({ action: 'completed', detail: { reason: 'broadcast_confirmed' } });

    // lina does not: the task ladder's sweep reminds her at due + SLA, then escalates to the manager.
    expect(cardsTo('manager1')).toHaveLength(0);
    // The leader's card has buttons, which WeCom sends only for an app with a callback URL; no
    // callback reaches it here (the driver is not used until the URL is removed again).
    const app = h.sandbox.world.corp(corpId)?.callback;
    if (app) app.url = 'http://127.0.0.1:9/wecom/callback';
    h.clock.advance(24 * HOUR);
    expect(await runLadder(taskDeps)).toEqual({ steps: 1, deferred: 0 });
    expect(cardsTo('manager1')).toHaveLength(0);
    h.clock.advance(24 * HOUR);
    expect(await runLadder(taskDeps)).toEqual({ steps: 1, deferred: 0 });
    expect(await runLadder(taskDeps)).toEqual({ steps: 0, deferred: 0 });
    const escalation = cardsTo('manager1');
    expect(escalation.map((m) => m.taskId)).toEqual([`te-${String(opened[0]?._id)}-2`]);
    expect(JSON.stringify(escalation[0]?.body)).toContain('群发助手');
    if (app) app.url = undefined;
    opened = await confirmTasks(id);
    expect(opened[0]).toMatchObject({ status: 'open', escalationLevel: 2 });
    // WeCom's reminder was used once; the ladder's steps are the bot's own messages.
    expect(await remindUnconfirmed(deps, id)).toEqual({ reminded: [], tasksOpened: [] });
    expect(linaTask?.reminders).toHaveLength(1);
    progress = await pollBroadcast(deps, id);
    expect(progress.find((p) => p.userid === 'lina')?.escalatedAt?.getTime()).toBe(h.clock.nowMs());

    // Cancellation stops lina's send and cancels her task; zhangwei's sends stay.
    expect(await cancelBroadcast(deps, id)).toEqual({ cancelledTasks: 1 });
    expect(linaTask?.cancelled).toBe(true);
    expect(() => h.sandbox.driver.confirmMassSend({ corpId, msgid: linaTask?.msgid ?? '', userid: 'lina' })).toThrow(
      /cancelled/,
    );
    opened = await confirmTasks(id);
    expect(opened.map((t) => t.status)).toEqual(['cancelled', 'done']);
    expect(opened[0]?.history.at(-1)).toMatchObject({ action: 'cancelled', detail: { reason: 'broadcast_cancelled' } });
    expect(opened[0]?.nextCheckpointAt).toBeUndefined();
    progress = await pollBroadcast(deps, id);
    expect(progress.find((p) => p.userid === 'lina')).toMatchObject({ state: 'cancelled', customers: { failed: 3 } });
    expect(progress.find((p) => p.userid === 'zhangwei')?.customers.sent).toBe(2);
  }, 60_000);

  it('shares the monthly cap with rules and holds out a deterministic share', async () => {
    const id = await createBroadcast(
      corpId,
      {
        name: '试驾周末',
        audience: { kind: 'segment', conditions: {} },
        content: { text: '试驾周末', attachments: [] },
        scheduledAt: h.clock.now(),
        monthlyCap: 1,
        holdoutPercent: 50,
      },
      'user:mkt',
    );
    const plan = await planBroadcast(
      { id, corpId, audience: { kind: 'segment', conditions: {} }, holdoutPercent: 50, monthlyCap: 1 },
      { now: h.clock.now(), timeZone: 'Asia/Shanghai' },
    );
    // zhangwei's two customers received the first broadcast this month: capped.
    expect(plan.excluded).toMatchObject({ opted_out: 1, monthly_cap: 2 });
    const again = await planBroadcast(
      { id, corpId, audience: { kind: 'segment', conditions: {} }, holdoutPercent: 50, monthlyCap: 1 },
      { now: h.clock.now(), timeZone: 'Asia/Shanghai' },
    );
    expect(again).toEqual(plan);
    const shares = Array.from({ length: 2000 }, (_, i) => inHoldout(id, `c${i}`, 20)).filter(Boolean).length;
    expect(shares).toBeGreaterThan(320);
    expect(shares).toBeLessThan(480);
  });
});

describe('a broadcast to owner groups', () => {
  it('goes to each group owner as one group mass send; confirmation shows in progress', async () => {
    const chatId = 'wrBroadcastGroup00000000000001';
    await h.sandbox.driver.changeGroup({
      corpId,
      change: 'create',
      chatId,
      owner: 'zhangwei',
      members: [ext(0), ext(2)],
    });
    await refreshGroup(deps, chatId);
    await GroupModel.updateOne({ corpId, chatId }, { $set: { purposeTags: ['model:汉兰达'] } });
    const id = await createBroadcast(
      corpId,
      {
        name: '车主群公告',
        audience: { kind: 'groups', purposeTag: 'model:汉兰达' },
        content: { text: '本周六车主活动', attachments: [] },
        scheduledAt: h.clock.now(),
      },
      'user:mkt',
    );
    await decideBroadcast(corpId, id, 'approve', 'user:manager1', h.clock.now());
    h.clock.set(Date.parse('2026-05-08T02:00:00Z'));
    expect(await sendBroadcast(deps, id)).toMatchObject({ status: 'sent', calls: 1 });
    const task = h.sandbox.world.corp(corpId)?.massTasks.at(-1);
    expect(task?.chatType).toBe('group');
    await h.sandbox.driver.confirmMassSend({ corpId, msgid: task?.msgid ?? '', userid: 'zhangwei' });
    const progress = await pollBroadcast(deps, id);
    expect(progress).toEqual([
      expect.objectContaining({ userid: 'zhangwei', state: 'sent', groups: { sent: 1, planned: 1 } }),
    ]);
  });

  it('a car-maker broadcast becomes one copy per dealer, each approved by its dealer', async () => {
    const { copies } = await pushOemBroadcast(
      [corpId, 'wwotherdealer0001'],
      {
        name: '召回通知',
        audience: { kind: 'segment', conditions: {} },
        content: { text: '召回', attachments: [] },
        scheduledAt: h.clock.now(),
      },
      'user:oem',
    );
    expect(copies).toHaveLength(2);
    expect(await decideBroadcast(corpId, copies[1]?.id ?? '', 'approve', 'user:x', h.clock.now())).toBe(false);
    expect(await decideBroadcast(corpId, copies[0]?.id ?? '', 'approve', 'user:manager1', h.clock.now())).toBe(true);
    expect((await BroadcastModel.findById(copies[1]?.id).lean())?.status).toBe('pending_approval');
  });
});

describe('a broadcast to a saved segment', () => {
  it('sends to the segment as it is at send time and records the conditions it planned with', async () => {
    h.clock.set(Date.parse('2026-06-10T02:00:00Z'));
    const segment = await createSegment(
      { corpId, name: '张伟的客户', conditions: { advisors: ['zhangwei'] } },
      'user:mkt',
    );
    const id = await createBroadcast(
      corpId,
      {
        name: '六月保养',
        audience: { kind: 'segment', segmentId: segment.id, conditions: segment.conditions },
        content: { text: '六月保养：工时 8 折', attachments: [] },
        scheduledAt: h.clock.now(),
      },
      'user:mkt',
    );
    // Edited after the broadcast was created: the send uses it as it is then (docs/engagement.md).
    await updateSegment(corpId, segment.id, { conditions: { advisors: ['lina'] } }, 'user:mkt');
    await decideBroadcast(corpId, id, 'approve', 'user:manager1', h.clock.now());
    h.sandbox.context.calls.clear();
    expect(await sendBroadcast(deps, id)).toMatchObject({ status: 'sent', calls: 1 });
    const task = h.sandbox.world.corp(corpId)?.massTasks.at(-1);
    expect(Object.keys(task?.senders ?? {})).toEqual(['lina']);
    expect(
      Object.values(task?.senders ?? {})
        .flatMap((s) => Object.keys(s.customers))
        .sort(),
    ).toEqual([3, 4, 5].map(ext).sort());
    const b = await BroadcastModel.findOne({ _id: id, corpId }).lean();
    expect(b?.plannedConditions).toEqual({ advisors: ['lina'] });
    expect(b?.audience).toMatchObject({ segmentId: segment.id, conditions: { advisors: ['zhangwei'] } });

    // lina never confirms: reminded with a task; a week after the send it is no longer tracked
    // and the task is cancelled.
    h.clock.advance(BROADCAST_TIMING.remindAfterMs);
    expect(await remindUnconfirmed(deps, id)).toEqual({ reminded: ['lina'], tasksOpened: ['lina'] });
    h.clock.advance(BROADCAST_TIMING.giveUpAfterMs - BROADCAST_TIMING.remindAfterMs);
    await pollBroadcast(deps, id);
    expect((await confirmTasks(id)).map((t) => t.status)).toEqual(['open']);
    h.clock.advance(1);
    const progress = await pollBroadcast(deps, id);
    expect(progress).toEqual([expect.objectContaining({ userid: 'lina', state: 'unconfirmed' })]);
    const [confirmTask] = await confirmTasks(id);
    expect(confirmTask).toMatchObject({ status: 'cancelled' });
    expect(confirmTask?.history.at(-1)).toMatchObject({ action: 'cancelled', detail: { reason: 'mass_send_ended' } });
    expect((await MessageBatchModel.findOne({ corpId, broadcastId: id }).lean())?.status).toBe('final');
  });
});
