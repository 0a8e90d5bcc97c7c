/**
 * Broadcast texts with customer variables through the WeCom sandbox (docs/engagement.md,
 * "Customer variables"): rendered per customer with the talk tracks' renderer, one
 * add_msg_template per advisor per distinct text with exactly that text's customers, the preview
 * counting each advisor's messages, and a broadcast that would give an advisor more than the cap
 * refused by the plan and never sent.
 */
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomerModel } from '../customers/customer.model.js';
import type { CustomerHarness } from '../customers/customer.test-support.js';
import { MessageBatchModel } from '../messages/message.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { createBroadcast, decideBroadcast } from './broadcast-approval.js';
import { BroadcastModel } from './broadcast.model.js';
import { MAX_MESSAGES_PER_ADVISOR, messageCapProblem, planBroadcast } from './broadcast-plan.js';
import { presentPlan } from './broadcast-queries.js';
import { sendBroadcast, type BroadcastDeps } from './broadcast.service.js';
import { startBroadcastHarness } from './broadcast.test-support.js';

let h: CustomerHarness;
let corpId: string;
let deps: BroadcastDeps;
const ext = (i: number) => `wmBcVars${String(i).padStart(20, '0')}`;
/** Customers 0–5 follow 张伟, 6–9 李娜; their latest vehicle's model (none for 3). */
const MODEL: Record<number, string | undefined> = {
  0: '汉',
  1: '汉',
  2: '秦',
  4: '汉',
  5: '汉',
  6: '汉',
  7: '汉',
  8: '唐',
  9: '汉',
};

beforeAll(async () => {
  ({ h, corpId, deps } = await startBroadcastHarness('broadcast-vars', {
    department: '销售二部',
    advisors: [
      { userid: 'zhangwei', name: '张伟' },
      { userid: 'lina', name: '李娜' },
    ],
    customers: Array.from({ length: 10 }, (_, i) => ({ externalUserid: ext(i), advisor: i < 6 ? 'zhangwei' : 'lina' })),
  }));
  const customers = await CustomerModel.find({ corpId }, { externalUserId: 1 }).lean();
  const idOf = new Map(customers.map((c) => [c.externalUserId, c._id as Types.ObjectId]));
  await VehicleModel.collection.insertMany(
    Object.entries(MODEL).flatMap(([i, model]) => [
      // An older vehicle of another model: the latest delivered one names the customer's model.
      {
        corpId,
        customerId: idOf.get(ext(+i)),
        vin: `LSVAA4189E2${String(i).padStart(6, '0')}`,
        model: '旧车',
        deliveryDate: new Date('2015-01-01'),
        source: 'import',
      },
      {
        corpId,
        customerId: idOf.get(ext(+i)),
        vin: `LSVAB4189E2${String(i).padStart(6, '0')}`,
        model,
        deliveryDate: new Date('2024-01-01'),
        source: 'import',
      },
    ]),
  );
});
afterAll(async () => {
  await h?.close();
});

const sendApproved = async (text: string, conditions = {}) => {
  h.clock.set(Date.parse('2026-05-05T02:00:00Z'));
  const id = await createBroadcast(
    corpId,
    {
      name: '保养节',
      audience: { kind: 'segment', conditions },
      content: { text, attachments: [] },
      scheduledAt: h.clock.now(),
    },
    'user:mkt',
  );
  await decideBroadcast(corpId, id, 'approve', 'user:manager1', h.clock.now());
  h.sandbox.context.calls.clear();
  return { id, result: await sendBroadcast(deps, id) };
};
const tasksOf = (text: RegExp) =>
  (h.sandbox.world.corp(corpId)?.massTasks ?? [])
    .filter((t) => text.test(t.text ?? ''))
    .map((t) => ({
      sender: Object.keys(t.senders)[0],
      text: t.text,
      customers: Object.values(t.senders)
        .flatMap((s) => Object.keys(s.customers))
        .sort(),
    }))
    .sort((x, y) => `${x.sender}${x.text}`.localeCompare(`${y.sender}${y.text}`));

describe('a broadcast with customer variables', () => {
  it('previews each advisor’s distinct messages and sends one add_msg_template per advisor and model', async () => {
    const text = '{顾问}邀{车型}车主参加保养节';
    const plan = await planBroadcast(
      {
        id: new Types.ObjectId().toHexString(),
        corpId,
        audience: { kind: 'segment', conditions: {} },
        holdoutPercent: 0,
        monthlyCap: 4,
        text,
      },
      { now: new Date('2026-05-05T02:00:00Z'), timeZone: 'Asia/Shanghai', pd: deps.tasks.pd },
    );
    expect(messageCapProblem(plan, text)).toBeUndefined();
    expect(presentPlan(plan)).toMatchObject({
      customers: 10,
      calls: 5,
      maxMessagesPerAdvisor: MAX_MESSAGES_PER_ADVISOR,
      advisors: [
        { userid: 'lina', customers: 4, messages: 2 },
        { userid: 'zhangwei', customers: 6, messages: 3 },
      ],
    });

    const { id, result } = await sendApproved(text);
    expect(result).toMatchObject({ status: 'sent', calls: 5 });
    expect(h.sandbox.context.calls.list({ endpoint: 'externalcontact/add_msg_template' })).toHaveLength(5);
    expect(tasksOf(/保养节$/)).toEqual([
      { sender: 'lina', text: '李娜邀唐车主参加保养节', customers: [ext(8)] },
      { sender: 'lina', text: '李娜邀汉车主参加保养节', customers: [6, 7, 9].map(ext) },
      // Customer 3 has no model on record: the renderer's fallback.
      { sender: 'zhangwei', text: '张伟邀您的爱车车主参加保养节', customers: [ext(3)] },
      { sender: 'zhangwei', text: '张伟邀汉车主参加保养节', customers: [0, 1, 4, 5].map(ext) },
      { sender: 'zhangwei', text: '张伟邀秦车主参加保养节', customers: [ext(2)] },
    ]);
    // Texts without a personal value are stored as sent.
    const stored = await MessageBatchModel.find({ corpId, broadcastId: id }).lean();
    expect(stored.map((b) => (b.content as { text: string }).text).sort()).toContain('李娜邀唐车主参加保养节');
  });

  it('renders the customer’s name for a tiny audience but never stores it, and excludes nobody with a name', async () => {
    const { id, result } = await sendApproved('{客户}您好，{车型}保养节送您工时 8 折', { advisors: ['lina'] });
    expect(result).toMatchObject({ status: 'sent', calls: 4 });
    expect(tasksOf(/您好/).map((t) => t.text)).toEqual([
      '客户6您好，汉保养节送您工时 8 折',
      '客户7您好，汉保养节送您工时 8 折',
      '客户8您好，唐保养节送您工时 8 折',
      '客户9您好，汉保养节送您工时 8 折',
    ]);
    const stored = await MessageBatchModel.find({ corpId, broadcastId: id }).lean();
    expect(new Set(stored.map((b) => (b.content as { text: string }).text))).toEqual(
      new Set(['{客户}您好，{车型}保养节送您工时 8 折']),
    );
  });

  it('refuses a plan giving an advisor more than the cap of distinct messages, naming the variable, and never sends it', async () => {
    const text = '{客户}，保养节送您工时 8 折';
    const plan = await planBroadcast(
      {
        id: new Types.ObjectId().toHexString(),
        corpId,
        audience: { kind: 'segment', conditions: {} },
        holdoutPercent: 0,
        monthlyCap: 31,
        text,
      },
      { now: new Date('2026-05-05T02:00:00Z'), timeZone: 'Asia/Shanghai', pd: deps.tasks.pd },
    );
    expect(presentPlan(plan).advisors).toMatchObject([
      { userid: 'lina', messages: 4 },
      { userid: 'zhangwei', messages: 6 },
    ]);
    expect(messageCapProblem(plan, text)).toMatch(
      /with the variable \{客户\} advisor zhangwei would get 6 different messages .*群发助手 \(1 advisor\(s\) over the limit of 5\)/,
    );
    // Approved before the data grew: the send refuses it too and says why.
    const { id, result } = await sendApproved(text);
    expect(result).toMatchObject({ status: 'refused', calls: 0 });
    expect(h.sandbox.context.calls.list({ endpoint: 'externalcontact/add_msg_template' })).toHaveLength(0);
    const b = await BroadcastModel.findById(id).lean();
    expect(b?.status).toBe('cancelled');
    expect((b?.summary as { refused: string }).refused).toMatch(/\{客户\}/);
  });
});
