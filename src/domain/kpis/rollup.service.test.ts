import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../testing/mongo.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { MessageBatchModel, MessageRecipientModel } from '../messages/message.model.js';
import { ExecutionModel } from '../rules/engine/execution.model.js';
import { TaskModel } from '../tasks/task.model.js';
import { accumulate, emptyAccumulator, valuesOf } from './kpi-counters.js';
import { KpiDailyModel } from './kpi-daily.model.js';
import { bucketValue, bucketOf, histogramMedian } from './duration-histogram.js';
import { NO_ADVISOR, rollupDay, rollupRange } from './rollup.service.js';

/**
 * Every metric on a hand-computed fixture (docs/cockpit.md). Corp-local days in Asia/Shanghai (UTC+8):
 * 2026-03-10 runs from 2026-03-09T16:00Z to 2026-03-10T16:00Z. "now" is 2026-03-12T04:00Z.
 */
const CORP = 'wwkpirollup01';
const TZ = 'Asia/Shanghai';
const DAY = '2026-03-10';
const NOW = new Date('2026-03-12T04:00:00Z');
const H = 3_600_000;
const at = (local: string) => new Date(`${local}+08:00`);

let db: Awaited<ReturnType<typeof useTestDatabase>>;
const customers: Types.ObjectId[] = [];

async function task(advisorUserid: string, dueLocal: string, extra: Record<string, unknown> = {}) {
  const dueAt = at(dueLocal);
  await TaskModel.create({
    corpId: CORP,
    customerId: (extra.customerId as Types.ObjectId | undefined) ?? customers[0],
    advisorUserid,
    title: '回访',
    dueAt,
    slaMs: 24 * H,
    remindAt: dueAt,
    ladder: { escalateAfterMs: 48 * H, flagAfterMs: 72 * H },
    history: [{ at: dueAt, actor: 'system', action: 'created' }],
    ...extra,
  });
}

async function valuesFor(advisor: string, day = DAY) {
  const doc = await KpiDailyModel.findOne({ corpId: CORP, day, advisorUserid: advisor }).lean();
  return { doc, values: doc ? valuesOf(accumulate(emptyAccumulator(), doc)) : undefined };
}

beforeAll(async () => {
  db = await useTestDatabase('kpi-rollup');
  await AdvisorModel.create([
    { corpId: CORP, userid: 'zhangwei', departments: [2, 5] },
    { corpId: CORP, userid: 'lina', departments: [3] },
  ]);
  for (let i = 0; i < 4; i++) {
    customers.push(
      (
        await CustomerModel.create({
          corpId: CORP,
          externalUserId: `wmkpi${i}`,
          responsibleUserid: i < 3 ? 'zhangwei' : undefined,
        })
      )._id,
    );
  }
  const [c0, c1, c2, c3] = customers;
  // Follow-ups of zhangwei due on DAY (SLA 24 h):
  await task('zhangwei', '2026-03-10T10:00:00', {
    status: 'done',
    outcome: 'contacted',
    completedAt: at('2026-03-11T10:00:00'),
  }); // exactly due + SLA → on time, 24 h
  await task('zhangwei', '2026-03-10T10:00:00', {
    status: 'done',
    outcome: 'contacted',
    completedAt: at('2026-03-11T10:00:01'),
  }); // 1 s late
  await task('zhangwei', '2026-03-10T23:59:00'); // open, overdue at NOW (due+SLA = 03-11 23:59 local < NOW = 03-12 12:00 local)
  await task('zhangwei', '2026-03-11T00:01:00'); // next local day: not in DAY
  await task('zhangwei', '2026-03-10T09:00:00', { status: 'cancelled' }); // excluded everywhere
  await task('zhangwei', '2026-03-10T08:00:00', {
    status: 'open',
    escalationLevel: 2,
    history: [
      { at: at('2026-03-10T08:00:00'), actor: 'system', action: 'created' },
      { at: at('2026-03-11T09:00:00'), actor: 'api:x', action: 'reassigned', detail: { from: 'lina', to: 'zhangwei' } },
    ],
  });
  await task('zhangwei', '2026-03-10T07:00:00', {
    status: 'done',
    completedAt: at('2026-03-10T06:00:00'),
    outcome: 'contacted',
  }); // done early → 0 ms, on time
  // Invitations (lina): maintenance booked, insurance declined, maintenance unreachable, one uncategorised.
  await task('lina', '2026-03-10T11:00:00', {
    category: 'maintenance',
    status: 'done',
    outcome: 'appointment_booked',
    completedAt: at('2026-03-10T12:00:00'),
  });
  await task('lina', '2026-03-10T11:00:00', {
    category: 'insurance',
    status: 'done',
    outcome: 'customer_declined',
    completedAt: at('2026-03-10T12:00:00'),
  });
  await task('lina', '2026-03-10T11:00:00', {
    category: 'maintenance',
    status: 'unreachable',
    completedAt: at('2026-03-10T12:00:00'),
  });
  await task('lina', '2026-03-10T11:00:00', {
    category: 'other',
    status: 'done',
    outcome: 'appointment_booked',
    completedAt: at('2026-03-10T12:00:00'),
  });

  // New owners on DAY: c0 (delivery care done on time), c1 (delivery care late), c3 (no advisor); c2 became owner the day before.
  const owner = (local: string) => ({
    lifecycle: { stage: 'owner', reason: 'vehicle_linked', changedAt: at(local) },
    lifecycleHistory: [{ stage: 'owner', reason: 'vehicle_linked', at: at(local) }],
  });
  await CustomerModel.updateOne({ _id: c0 }, { $set: owner('2026-03-10T00:00:00') }); // local midnight: in DAY
  await CustomerModel.updateOne({ _id: c1 }, { $set: owner('2026-03-10T15:00:00') });
  await CustomerModel.updateOne({ _id: c2 }, { $set: owner('2026-03-09T23:59:59') });
  await CustomerModel.updateOne({ _id: c3 }, { $set: owner('2026-03-10T12:00:00') });
  await task('zhangwei', '2026-03-12T10:00:00', {
    customerId: c0,
    category: 'delivery_care',
    status: 'done',
    outcome: 'contacted',
    completedAt: at('2026-03-12T11:00:00'),
  });
  await task('zhangwei', '2026-03-05T10:00:00', {
    customerId: c1,
    category: 'delivery_care',
    status: 'done',
    outcome: 'contacted',
    completedAt: at('2026-03-09T11:00:00'),
  });

  // Relationships added on DAY: 3 for zhangwei (2 by state 'showroom', one lost 10 days later), 1 lost 40 days later; lost on DAY: one for lina.
  const rel = (userid: string, i: number, addedLocal: string, extra: Record<string, unknown> = {}) =>
    RelationshipModel.create({
      corpId: CORP,
      userid,
      externalUserId: `wmrel${i}`,
      customerId: customers[0],
      addedAt: at(addedLocal),
      ...extra,
    });
  await rel('zhangwei', 1, '2026-03-10T09:00:00', { state: 'showroom' });
  await rel('zhangwei', 2, '2026-03-10T09:30:00', {
    state: 'showroom',
    status: 'deleted_by_customer',
    statusChangedAt: at('2026-03-20T09:00:00'),
  });
  await rel('zhangwei', 3, '2026-03-10T10:00:00', {
    status: 'deleted_by_customer',
    statusChangedAt: at('2026-04-19T10:00:01'),
  });
  await rel('lina', 4, '2026-02-01T10:00:00', {
    status: 'deleted_by_customer',
    statusChangedAt: at('2026-03-10T18:00:00'),
  });
  await rel('lina', 5, '2026-02-01T10:00:00', {
    status: 'deleted_by_advisor',
    statusChangedAt: at('2026-03-10T18:00:00'),
  }); // advisor deleted: not a loss

  // Welcomes (executions created on DAY): zhangwei 2 sent, 1 refused by WeCom; a lane-skipped duplicate does not count.
  const exec = (i: number, occurrenceId: string, actions: Array<Record<string, unknown>>, subject = `ext:wm${i}`) =>
    ExecutionModel.create({
      ruleId: new Types.ObjectId(),
      subject,
      occurrenceId,
      corpId: CORP,
      ruleVersion: 1,
      trigger: 'customer.added',
      actions,
      createdAt: at('2026-03-10T09:00:00'),
    });
  await exec(1, 'add:zhangwei', [{ index: 0, type: 'welcome', status: 'done' }]);
  await exec(2, 'add:zhangwei', [{ index: 0, type: 'welcome', status: 'done' }]);
  await exec(3, 'add:zhangwei', [{ index: 0, type: 'welcome', status: 'skipped', reason: 'errcode_41051' }]);
  await exec(4, 'add:zhangwei', [{ index: 0, type: 'welcome', status: 'skipped', reason: 'sent_by_welcome_lane' }]);
  // Messages blocked by the rules (customer c1 → zhangwei): one cap, one opt-out.
  await exec(
    5,
    'tag:x:1',
    [{ index: 0, type: 'message_customer', status: 'skipped', reason: 'monthly_cap' }],
    String(c1),
  );
  await exec(
    6,
    'tag:x:2',
    [{ index: 0, type: 'message_customer', status: 'skipped', reason: 'opted_out' }],
    String(c1),
  );

  // Customer messages queued on DAY by zhangwei: sent, not a friend, pending, cancelled for opt-out, requeued (not counted).
  const batch = await MessageBatchModel.create({
    corpId: CORP,
    sender: 'zhangwei',
    contentHash: 'h',
    content: { text: '保养提醒' },
    openedAt: at('2026-03-10T09:00:00'),
  });
  const msg = (i: number, extra: Record<string, unknown>) =>
    MessageRecipientModel.create({
      key: `k${i}`,
      batchId: batch._id,
      corpId: CORP,
      customerId: c0,
      externalUserId: `wm${i}`,
      sender: 'zhangwei',
      monthKey: '2026-03',
      createdAt: at('2026-03-10T09:00:00'),
      ...extra,
    });
  await msg(1, { status: 'sent', wecomStatus: 1 });
  await msg(2, { status: 'failed', wecomStatus: 2, reason: 'not_a_friend' });
  await msg(3, { status: 'pending' });
  await msg(4, { status: 'cancelled', reason: 'opted_out' });
  await msg(5, { status: 'cancelled', reason: 'requeued' });
});
afterAll(async () => db.drop());

describe('daily rollup: every metric on hand-computed fixtures', () => {
  it('follow-up discipline: due+SLA exactly is on time, 23:59 vs 00:01 local land on different days, cancelled excluded', async () => {
    const r = await rollupDay({ corpId: CORP, day: DAY, timeZone: TZ, now: NOW });
    expect(r.docsRead.tasks).toBe(10); // the 10 tasks due on DAY (incl. the cancelled one), nothing else
    const { doc, values } = await valuesFor('zhangwei');
    expect(doc?.departments).toEqual([2, 5]);
    expect(values).toMatchObject({
      tasks_due: 5,
      tasks_done_on_time: 2,
      tasks_done_late: 1,
      tasks_overdue: 2,
      tasks_escalated: 1,
      tasks_reassigned: 1,
      on_time_rate: 2 / 5, // all 5 are decided at NOW
    });
    // due → done: 0 (early), 24 h, 24 h + 1 s → median 24 h within the histogram's ±9.05 %
    expect(values?.median_due_to_done_ms).toBe(bucketValue(bucketOf(24 * H)));
    expect(Math.abs((values?.median_due_to_done_ms ?? 0) / (24 * H) - 1)).toBeLessThan(0.0906);
    const next = await rollupDay({ corpId: CORP, day: '2026-03-11', timeZone: TZ, now: NOW });
    expect(next.docsRead.tasks).toBe(1);
    expect((await valuesFor('zhangwei', '2026-03-11')).values?.tasks_due).toBe(1);
  });

  it('retained-customer care: new owners, delivery care within SLA, invitations and their outcomes', async () => {
    await rollupDay({ corpId: CORP, day: DAY, timeZone: TZ, now: NOW });
    const z = (await valuesFor('zhangwei')).values;
    expect(z).toMatchObject({ new_owners: 2, delivery_care_within_sla_rate: 0.5 });
    expect((await valuesFor(NO_ADVISOR)).values).toMatchObject({ new_owners: 1, delivery_care_within_sla_rate: 0 });
    expect((await valuesFor('lina')).values).toMatchObject({
      invitations_sent: 2,
      invitations_booked: 1,
      invitations_declined: 1,
      invitations_unreachable: 1,
      tasks_due: 4,
    });
  });

  it('relationship health and messaging', async () => {
    await rollupDay({ corpId: CORP, day: DAY, timeZone: TZ, now: new Date('2026-05-01T00:00:00Z') });
    const { doc, values } = await valuesFor('zhangwei');
    expect(values).toMatchObject({
      customers_added: 3,
      loss_rate_30d: 1 / 3,
      welcomes_sent: 2,
      welcomes_failed: 1,
      messages_planned: 4,
      messages_confirmed: 2,
      messages_sent: 1,
      messages_blocked_cap: 1,
      messages_blocked_opt_out: 2,
    });
    expect(doc?.addedByState).toEqual({ showroom: 2, '-': 1 });
    expect((await valuesFor('lina')).values).toMatchObject({ customers_lost: 1 });
  });

  it('re-running the rollup changes nothing; "still overdue" is frozen SETTLE_DAYS after the day', async () => {
    const later = new Date('2026-06-01T00:00:00Z');
    await rollupRange({ corpId: CORP, timeZone: TZ, now: later, from: '2026-03-09', to: '2026-03-12' });
    const first = await KpiDailyModel.find({ corpId: CORP }, { _id: 0 }).sort({ day: 1, advisorUserid: 1 }).lean();
    await rollupRange({
      corpId: CORP,
      timeZone: TZ,
      now: new Date('2027-01-01T00:00:00Z'),
      from: '2026-03-09',
      to: '2026-03-12',
    });
    const second = await KpiDailyModel.find({ corpId: CORP }, { _id: 0 }).sort({ day: 1, advisorUserid: 1 }).lean();
    expect(second).toEqual(first);
    expect(first.find((d) => d.day === DAY && d.advisorUserid === 'zhangwei')?.asOf).toEqual(
      new Date('2026-04-10T16:00:00Z'),
    );
  });

  it('the median histogram merges across days and stays within ±9.05 %', () => {
    for (const ms of [61_000, 5 * 60_000, 3 * H, 26 * H, 40 * 86_400_000]) {
      const est = bucketValue(bucketOf(ms));
      expect(Math.abs(est / ms - 1)).toBeLessThan(0.0906);
    }
    expect(histogramMedian({ '0': 2, [String(bucketOf(2 * H))]: 1 })).toBe(0);
    expect(histogramMedian({})).toBeNull();
  });
});
