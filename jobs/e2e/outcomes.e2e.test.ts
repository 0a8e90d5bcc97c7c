/**
 * DMS outcomes (docs/outcomes.md) end to end: signed webhook deliveries (bad signature, replay,
 * correction, late older version), the CSV import, an arrival that moves the next-maintenance
 * follow-up and is credited to the follow-up task before it, a booking without an arrival becoming
 * a no-show with its task, and a holdout rule's campaign report — the whole bot with one ManualClock.
 */
import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { Types } from 'mongoose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../../src/domain/auth/token.service.js';
import { CorpModel } from '../../src/domain/corps/corp.model.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { AttributionModel } from '../../src/domain/outcomes/attribution.model.js';
import { NoShowModel } from '../../src/domain/outcomes/no-show.model.js';
import { NO_SHOW_TITLE } from '../../src/domain/outcomes/no-show.service.js';
import { importOutcomeRows } from '../../src/domain/outcomes/outcome-import.js';
import { OutcomeModel } from '../../src/domain/outcomes/outcome.model.js';
import { isHeldOut } from '../../src/domain/rules/holdout.js';
import { ruleCreateSchema } from '../../src/domain/rules/rule.schema.js';
import { RuleService } from '../../src/domain/rules/rule.service.js';
import { ScheduleModel } from '../../src/domain/schedules/schedule.model.js';
import { runSweep } from '../../src/domain/schedules/sweep.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { vehicleInputSchema } from '../../src/domain/vehicles/vehicle-input.js';
import { VehicleModel } from '../../src/domain/vehicles/vehicle.model.js';
import { upsertVehicle } from '../../src/domain/vehicles/vehicle.service.js';
import { WebhookSecrets } from '../../src/domain/webhooks/webhook-secret.service.js';
import { signWebhook } from '../../src/domain/webhooks/webhook-signature.js';
import { outcomesDailyJob } from '../../src/queues/jobs/outcomes.jobs.js';
import { waitFor } from '../../src/testing/wait.js';
import { botApiApp, startBotHarness, type BotHarness } from './bot.test-support.js';

/** 2026-06-01 (Monday) 10:00 Asia/Shanghai. */
const START = Date.parse('2026-06-01T02:00:00Z');
const local = (iso: string) => Date.parse(`${iso}+08:00`);
const HOUR = 3_600_000;

let bot: BotHarness;
let server: ReturnType<typeof request>;
let admin: string;
let secret: string;
let maintenanceRuleId: string;
let holdoutRuleId: string;
let winBackRuleId: string;
const author = { role: 'admin' as const, corps: '*' as const, tokenId: 'e2e' };

beforeAll(async () => {
  bot = await startBotHarness({ startAt: START });
  // The API and the webhook read the corp from the corps collection (the harness serves WeCom from memory).
  await CorpModel.updateOne(
    { corpId: bot.corpId },
    { $set: { corpId: bot.corpId, kind: 'dealer', displayName: 'demo', timezone: 'Asia/Shanghai', enabled: true } },
    { upsert: true },
  );
  server = request(botApiApp(bot, { webhooks: true }).callback());
  admin = (await new TokenService(() => bot.clock.now()).create({ role: 'admin', corps: [] })).token;
  secret = (await new WebhookSecrets(bot.ctx.pd.cipher, () => bot.clock.now()).rotate(bot.corpId, 'dms')).secret;
  const rules = new RuleService(() => bot.clock.now());
  maintenanceRuleId = String(
    (
      await rules.create(
        author,
        ruleCreateSchema.parse({
          name: '保养到期提醒',
          scope: bot.corpId,
          enabled: true,
          trigger: { type: 'date', field: 'lastServiceDate', offset: '+180d at 10:00' },
          actions: [{ type: 'follow_up', title: '保养到期邀约', talkTrack: '{客户}您好，爱车该保养了。', sla: '24h' }],
        }),
      )
    ).id,
  );
  holdoutRuleId = String(
    (
      await rules.create(
        author,
        ruleCreateSchema.parse({
          name: '新客关怀对照',
          scope: bot.corpId,
          enabled: true,
          holdoutShare: 0.5,
          trigger: { type: 'customer.added' },
          actions: [{ type: 'follow_up', title: '新客回访', talkTrack: '{客户}您好。', dueIn: '3d' }],
        }),
      )
    ).id,
  );
  winBackRuleId = (
    await rules.create(
      author,
      ruleCreateSchema.parse({
        name: '休眠保客召回',
        scope: bot.corpId,
        enabled: true,
        trigger: { type: 'service.overdue' },
        conditions: { lifecycle: ['dormant'] },
        actions: [
          { type: 'follow_up', title: '休眠召回', talkTrack: '{客户}您好，好久没见，送您一次免费检测。', dueIn: '0m' },
        ],
      }),
    )
  ).id;
}, 60_000);
afterAll(async () => {
  await bot?.stop();
});

const world = () => {
  const corp = bot.sandbox.world.corp(bot.corpId);
  if (!corp) throw new Error('no demo corp in the sandbox');
  return corp;
};

let vinSeq = 0;
/** A customer of `userid` with one vehicle (local dates); returns the ids and the VIN. */
async function owner(userid: string, name: string, lastServiceDate: string, deliveryDate = '2025-06-01') {
  const { externalUserId } = await bot.sandbox.driver.addCustomer({ corpId: bot.corpId, userid, customer: { name } });
  await bot.settle('the add');
  vinSeq++;
  const vin = `LFV2A21K0P4${String(100000 + vinSeq)}`;
  await upsertVehicle(
    {
      corpId: bot.corpId,
      timeZone: 'Asia/Shanghai',
      pd: bot.ctx.pd,
      queues: bot.ctx.queues,
      now: () => bot.clock.now(),
    },
    vehicleInputSchema.parse({
      vin,
      model: '星越L',
      deliveryDate,
      lastServiceDate,
      externalUserId,
      salesUserid: userid,
    }),
    'api',
  );
  await bot.settle('the vehicle link and planning');
  const customer = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId }).lean();
  if (!customer) throw new Error('the add made no customer');
  return { customerId: customer._id, externalUserId, vin };
}

function deliver(body: unknown, opts: { id?: string; key?: string } = {}) {
  const raw = JSON.stringify(body);
  const id = opts.id ?? `msg_${randomUUID()}`;
  const ts = Math.floor(bot.clock.nowMs() / 1000);
  return server
    .post(`/webhooks/dms/${bot.corpId}`)
    .set('content-type', 'application/json')
    .set('webhook-id', id)
    .set('webhook-timestamp', String(ts))
    .set('webhook-signature', signWebhook(opts.key ?? secret, id, ts, raw))
    .send(raw);
}

const arrival = (vin: string, over: Record<string, unknown> = {}) => ({
  externalId: `RO-${vin}`,
  version: 1,
  type: 'repair_order',
  occurredAt: '2026-06-05',
  vin,
  roNumber: `RO-${vin}`,
  roType: 'maintenance',
  labourAmount: 300,
  partsAmount: 500,
  mileageKm: 12000,
  ...over,
});

const followUpSchedule = (customerId: Types.ObjectId) =>
  ScheduleModel.findOne({
    corpId: bot.corpId,
    customerId,
    ruleId: new Types.ObjectId(maintenanceRuleId),
    kind: 'follow_up',
    status: 'planned',
  }).lean();

/** Fires what is due at `atMs` and clicks the card of `userid`'s task for `customerId` as "appointment booked". */
async function fireAndBook(atMs: number, userid: string, customerId: Types.ObjectId) {
  bot.clock.set(atMs);
  await runSweep({ queues: bot.ctx.queues, now: bot.clock.now() });
  await bot.settle('fired follow-ups and their cards');
  const task = await TaskModel.findOne({ corpId: bot.corpId, customerId, title: '保养到期邀约' }).lean();
  expect(task).toMatchObject({ status: 'open', advisorUserid: userid });
  const card = world().messages.find((m) => m.msgtype === 'template_card' && m.taskId === `tk-${String(task?._id)}-1`);
  expect(card).toBeDefined();
  bot.clock.advance(2 * HOUR);
  await bot.sandbox.driver.clickCardButton({
    corpId: bot.corpId,
    userid,
    taskId: card?.taskId ?? '',
    eventKey: 'done:appointment_booked',
  });
  await bot.settle('the click');
  return task?._id;
}

/** The per-corp daily outcomes job (no-shows, dormancy), through the maintenance queue. */
let dailyRuns = 0;
async function runDaily() {
  const job = await outcomesDailyJob.enqueue(
    bot.ctx.queues,
    { corpId: bot.corpId },
    { jobId: `e2e-daily-${++dailyRuns}` },
  );
  await waitFor(async () => (await job.getState()) === 'completed', 'the daily outcomes run');
  await bot.settle('what the daily run set off');
}

let booked: { customerId: Types.ObjectId; vin: string; taskId?: Types.ObjectId };
let noShow: { customerId: Types.ObjectId; vin: string; taskId?: Types.ObjectId };

describe('an invitation, the arrival it led to, and the next maintenance', () => {
  it('the arrival moves lastServiceDate, re-plans the next-maintenance follow-up and credits the booking task', async () => {
    booked = await owner('zhangwei', '测试车主甲', '2025-12-05');
    noShow = await owner('lina', '测试车主乙', '2025-12-05');
    const planned = (await followUpSchedule(booked.customerId))?.dueAt;
    expect(planned && new Date(planned.getTime() + 8 * HOUR).toISOString().slice(11, 16)).toBe('10:00');
    const plannedMs = planned?.getTime() ?? 0;

    booked.taskId = await fireAndBook(plannedMs, 'zhangwei', booked.customerId);
    noShow.taskId = await TaskModel.findOne({ corpId: bot.corpId, customerId: noShow.customerId })
      .lean()
      .then((t) => t?._id);
    await bot.sandbox.driver.clickCardButton({
      corpId: bot.corpId,
      userid: 'lina',
      taskId: `tk-${String(noShow.taskId)}-1`,
      eventKey: 'done:appointment_booked',
    });
    await bot.settle('the second click');
    expect(await TaskModel.findById(noShow.taskId).lean()).toMatchObject({
      status: 'done',
      outcome: 'appointment_booked',
    });

    bot.clock.set(local('2026-06-05T16:00:00'));
    const res = await deliver(arrival(booked.vin));
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ status: 'created', matchedBy: 'vin' });
    await bot.settle('the anchor change and the re-plan');

    const vehicle = await VehicleModel.findOne({ corpId: bot.corpId, vin: booked.vin }).lean();
    expect(vehicle?.lastServiceDate?.getTime()).toBe(local('2026-06-05T00:00:00'));
    expect(vehicle?.mileageKm).toBe(12000);
    // The service date moved 182 days (2025-12-05 → 2026-06-05): so does the next-maintenance follow-up.
    await waitFor(
      async () => (await followUpSchedule(booked.customerId))?.dueAt.getTime() === plannedMs + 182 * 24 * HOUR,
      'the next-maintenance follow-up re-planned from the arrival',
    );

    const outcome = await OutcomeModel.findOne({ corpId: bot.corpId, externalId: `RO-${booked.vin}` }).lean();
    expect(outcome).toMatchObject({ status: 'active', revenue: 800, customerId: booked.customerId });
    const credit = await AttributionModel.findOne({ corpId: bot.corpId, outcomeId: outcome?._id }).lean();
    expect(credit).toMatchObject({ organic: false, predicted: true, revenue: 800, touches: 1 });
    expect(credit?.touch).toMatchObject({ kind: 'task', advisorUserid: 'zhangwei', taskOutcome: 'appointment_booked' });
    expect(String(credit?.touch?.taskId)).toBe(String(booked.taskId));
    expect(String(credit?.touch?.ruleId)).toBe(maintenanceRuleId);
  });
});

describe('the signed webhook', () => {
  it('refuses a wrong signature (401) and a replayed delivery (409), storing nothing from either', async () => {
    const wrong = await deliver(arrival(booked.vin, { version: 9, labourAmount: 1 }), {
      key: `whsec_${Buffer.from('not the secret of this dealer..').toString('base64')}`,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('bad_signature');

    const id = `msg_${randomUUID()}`;
    expect((await deliver(arrival(booked.vin), { id })).body.results[0].status).toBe('unchanged');
    const replay = await deliver(arrival(booked.vin, { version: 8, labourAmount: 2 }), { id });
    expect(replay.status).toBe(409);
    expect(replay.body.error.code).toBe('replayed_delivery');
    expect(await OutcomeModel.findOne({ corpId: bot.corpId, externalId: `RO-${booked.vin}` }).lean()).toMatchObject({
      version: 1,
      revenue: 800,
    });
  });

  it('a correction (higher version) replaces the record and its credit; an older version arriving late changes nothing', async () => {
    const corrected = await deliver(arrival(booked.vin, { version: 3, labourAmount: 450 }));
    expect(corrected.body.results[0].status).toBe('updated');
    const late = await deliver(arrival(booked.vin, { version: 2, labourAmount: 1 }));
    expect(late.status).toBe(200);
    expect(late.body.results[0].status).toBe('stale');
    const outcome = await OutcomeModel.findOne({ corpId: bot.corpId, externalId: `RO-${booked.vin}` }).lean();
    expect(outcome).toMatchObject({ version: 3, revenue: 950, labourAmount: 450 });
    expect(await AttributionModel.find({ corpId: bot.corpId, outcomeId: outcome?._id }).lean()).toEqual([
      expect.objectContaining({ revenue: 950, organic: false }),
    ]);
  });
});

describe('the CSV import (npm run import:outcomes)', () => {
  it('stores the good rows, rejects the bad ones with their line and reason, and a re-import changes nothing', async () => {
    const csv = [
      'external_id,version,type,occurred_at,vin,policy_number,insurer,policy_end,premium,policy_kind,ro_type',
      `POL-1,1,insurance_policy,2026-06-06,${booked.vin},P-0001,平安,2027-06-05,4200,renewal,`,
      `RO-bad,1,repair_order,2026-02-30,${booked.vin},,,,,,maintenance`,
      `X-1,1,oil_change,2026-06-06,${booked.vin},,,,,,`,
    ].join('\n');
    const rows = async function* () {
      const records = parse(csv, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
      for (const [i, record] of records.entries()) yield { line: i + 2, record };
    };
    const deps = {
      corpId: bot.corpId,
      timeZone: 'Asia/Shanghai',
      pd: bot.ctx.pd,
      queues: bot.ctx.queues,
      now: () => bot.clock.now(),
    };
    const summary = await importOutcomeRows(deps, rows());
    expect(summary).toMatchObject({ rows: 3, created: 1, matched: 1 });
    expect(summary.rejected.map((r) => r.line)).toEqual([3, 4]);
    expect(summary.rejected[0]?.problems.join(' ')).toContain('occurredAt');
    expect(summary.rejected[1]?.problems.join(' ')).toContain('type');
    await bot.settle('the insurance anchor');
    const vehicle = await VehicleModel.findOne({ corpId: bot.corpId, vin: booked.vin }).lean();
    expect(vehicle?.insuranceExpiry?.getTime()).toBe(local('2027-06-05T00:00:00'));
    expect(await OutcomeModel.countDocuments({ corpId: bot.corpId, externalId: { $in: ['RO-bad', 'X-1'] } })).toBe(0);
    expect(await importOutcomeRows(deps, rows())).toMatchObject({ created: 0, unchanged: 1 });
  });
});

describe('a booking without an arrival', () => {
  it('becomes a no-show after the window, with one follow-up task for the advisor, once', async () => {
    // Booked 2026-06-03 12:00; the 14-day window closes 06-17; the daily run on 06-18 finds it.
    bot.clock.set(local('2026-06-18T05:00:00'));
    await runDaily();
    const found = await NoShowModel.find({ corpId: bot.corpId }).lean();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ advisorUserid: 'lina', customerId: noShow.customerId });
    expect(String(found[0]?.taskId)).toBe(String(noShow.taskId));
    const task = await TaskModel.findById(found[0]?.followUpTaskId).lean();
    expect(task).toMatchObject({ status: 'open', advisorUserid: 'lina', reason: 'no_show', title: NO_SHOW_TITLE });
    // The owner who arrived is no no-show; a second run finds nothing new.
    await runDaily();
    expect(await NoShowModel.countDocuments({ corpId: bot.corpId })).toBe(1);
    expect(await TaskModel.countDocuments({ corpId: bot.corpId, reason: 'no_show' })).toBe(1);
    const kpis = await server
      .get(`/api/v1/kpis/outcomes?corpId=${bot.corpId}&from=2026-06-01T00:00:00%2B08:00&to=2026-06-19T00:00:00%2B08:00`)
      .set('authorization', `Bearer ${admin}`);
    expect(kpis.status).toBe(200);
    expect(kpis.body.noShows.total).toBe(1);
  });
});

describe("a holdout rule's campaign report", () => {
  it('puts each customer the rule reached in the treated or held-out group and counts their arrivals', async () => {
    bot.clock.set(local('2026-06-20T10:00:00'));
    const people = [];
    for (let i = 0; i < 10; i++) people.push(await owner('zhangwei', `测试对照客户${i}`, '2026-03-01'));
    bot.clock.set(local('2026-06-25T10:00:00'));
    const arrived = people.filter((_, i) => i % 2 === 0);
    const res = await deliver({
      outcomes: arrived.map((p) => arrival(p.vin, { occurredAt: '2026-06-25', externalId: `RO-h-${p.vin}` })),
    });
    expect(res.body.summary.created).toBe(arrived.length);

    const heldOut = (customerId: Types.ObjectId) =>
      isHeldOut(bot.ctx.pd.hasher, holdoutRuleId, String(customerId), 0.5);
    // Every customer added since the rule existed entered a group: the two of the first test and these ten.
    const everyone = [booked.customerId, noShow.customerId, ...people.map((p) => p.customerId)];
    // With an arrival within 30 days of entering: these five, and the first owner (arrived 06-05, entered 06-01).
    const withArrival = [booked.customerId, ...arrived.map((p) => p.customerId)];
    const expected = (group: boolean) => ({
      customers: everyone.filter((c) => heldOut(c) === group).length,
      withOutcome: withArrival.filter((c) => heldOut(c) === group).length,
    });
    const report = await server
      .get(`/api/v1/campaigns/${holdoutRuleId}/report?corpId=${bot.corpId}&types=repair_order`)
      .set('authorization', `Bearer ${admin}`);
    expect(report.status).toBe(200);
    expect(report.body.treated).toMatchObject(expected(false));
    expect(report.body.heldOut).toMatchObject(expected(true));
    expect(report.body.heldOut.customers).toBeGreaterThan(0);
    expect(report.body.treated.customers).toBeGreaterThan(0);
    expect(report.body.verdict).toMatch(/^(uplift|harm|not_significant)$/);
    // Held-out customers got no task of the rule; treated ones did.
    const ruleTasks = await TaskModel.find({ corpId: bot.corpId, ruleId: new Types.ObjectId(holdoutRuleId) }).lean();
    const scheduled = await ScheduleModel.find({
      corpId: bot.corpId,
      ruleId: new Types.ObjectId(holdoutRuleId),
    }).lean();
    const reached = new Set([...ruleTasks, ...scheduled].map((t) => String(t.customerId)));
    for (const c of everyone) expect(reached.has(String(c))).toBe(!heldOut(c));
  });
});

describe('dormant owners', () => {
  it('an owner without a repair order for 12 months turns dormant once; the win-back rule gives the advisor a task; an arrival makes them an owner again', async () => {
    bot.clock.set(local('2026-07-01T10:00:00'));
    const lapsed = await owner('zhangwei', '测试休眠车主', '2025-05-20', '2023-05-01');
    expect((await CustomerModel.findById(lapsed.customerId).lean())?.lifecycle?.stage).toBe('owner');

    bot.clock.set(local('2026-07-02T05:00:00'));
    await runDaily();
    const customer = await CustomerModel.findById(lapsed.customerId).lean();
    expect(customer?.lifecycle).toMatchObject({ stage: 'dormant', reason: 'no_repair_order' });
    // Everyone else came to the workshop (or had a service) within 12 months.
    expect(await CustomerModel.countDocuments({ corpId: bot.corpId, 'lifecycle.stage': 'dormant' })).toBe(1);
    await runSweep({ queues: bot.ctx.queues, now: bot.clock.now() });
    await bot.settle('the win-back follow-up');
    const winBack = await TaskModel.find({ corpId: bot.corpId, ruleId: new Types.ObjectId(winBackRuleId) }).lean();
    expect(winBack).toHaveLength(1);
    expect(winBack[0]).toMatchObject({ customerId: lapsed.customerId, advisorUserid: 'zhangwei', title: '休眠召回' });

    // A second run the next day: no second transition, no second task.
    bot.clock.set(local('2026-07-03T05:00:00'));
    await runDaily();
    expect(await TaskModel.countDocuments({ corpId: bot.corpId, ruleId: new Types.ObjectId(winBackRuleId) })).toBe(1);
    expect(
      (await CustomerModel.findById(lapsed.customerId).lean())?.lifecycleHistory.filter((h) => h.stage === 'dormant'),
    ).toHaveLength(1);

    const res = await deliver(arrival(lapsed.vin, { occurredAt: '2026-07-03', roType: 'repair' }));
    expect(res.body.results[0]).toMatchObject({ status: 'created', matchedBy: 'vin' });
    expect((await CustomerModel.findById(lapsed.customerId).lean())?.lifecycle).toMatchObject({
      stage: 'owner',
      reason: 'arrival',
    });
  });
});
