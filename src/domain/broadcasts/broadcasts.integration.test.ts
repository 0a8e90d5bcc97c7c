/**
 * Broadcasts through the WeCom sandbox: approved, postponed by quiet hours, one add_msg_template
 * per advisor, an opted-out customer blocked, advisors confirming in the sandbox, the unconfirmed
 * one reminded once and escalated to the manager, cancellation stopping the rest; a broadcast to
 * owner groups; every customer send recorded as a broadcast message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomerModel } from '../customers/customer.model.js';
import type { CustomerHarness } from '../customers/customer.test-support.js';
import { GroupModel } from '../groups/group.model.js';
import { refreshGroup } from '../groups/group-refresh.service.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { createSegment, updateSegment } from '../segments/segment.service.js';
import { createBroadcast, decideBroadcast, pushOemBroadcast } from './broadcast-approval.js';
import { BroadcastModel } from './broadcast.model.js';
import { inHoldout, planBroadcast } from './broadcast-plan.js';
import {
  BROADCAST_TIMING,
  cancelBroadcast,
  pollBroadcast,
  remindAndEscalate,
  sendBroadcast,
  type BroadcastDeps,
} from './broadcast.service.js';
import { startBroadcastHarness } from './broadcast.test-support.js';

let h: CustomerHarness;
let corpId: string;
let deps: BroadcastDeps;
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
});
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

    // zhangwei confirms; lina does not.
    const zhangTask = tasks.find((t) => t.senders.zhangwei);
    await h.sandbox.driver.confirmMassSend({ corpId, msgid: zhangTask?.msgid ?? '', userid: 'zhangwei' });
    let progress = await pollBroadcast(deps, id);
    expect(progress.find((p) => p.userid === 'zhangwei')).toMatchObject({
      state: 'sent',
      customers: { sent: 2, pending: 0 },
    });
    expect(progress.find((p) => p.userid === 'lina')).toMatchObject({
      state: 'unconfirmed',
      customers: { pending: 3 },
    });

    // Reminded once, then escalated to the manager.
    h.clock.advance(BROADCAST_TIMING.remindAfterMs);
    expect(await remindAndEscalate(deps, id)).toEqual({ reminded: ['lina'], escalated: [] });
    expect(await remindAndEscalate(deps, id)).toEqual({ reminded: [], escalated: [] });
    const linaTask = tasks.find((t) => t.senders.lina);
    expect(linaTask?.reminders).toHaveLength(1);
    h.clock.advance(BROADCAST_TIMING.escalateAfterMs);
    expect(await remindAndEscalate(deps, id)).toEqual({ reminded: [], escalated: ['lina'] });
    expect(await remindAndEscalate(deps, id)).toEqual({ reminded: [], escalated: [] });
    const cards = (h.sandbox.world.corp(corpId)?.messages ?? []).filter((m) => m.touser.includes('manager1'));
    expect(cards).toHaveLength(1);

    // Cancellation stops lina's task; zhangwei's sends stay.
    expect(await cancelBroadcast(deps, id)).toEqual({ cancelledTasks: 1 });
    expect(linaTask?.cancelled).toBe(true);
    expect(() => h.sandbox.driver.confirmMassSend({ corpId, msgid: linaTask?.msgid ?? '', userid: 'lina' })).toThrow(
      /cancelled/,
    );
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
    h.clock.set(Date.parse('2026-05-06T02:00:00Z'));
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
  });
});
