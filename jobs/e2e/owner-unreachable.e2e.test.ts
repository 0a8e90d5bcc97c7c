/**
 * "Add this owner on WeCom" tasks end to end (docs/outcomes.md): the whole bot with the WeCom
 * sandbox and one ManualClock. Two DMS vehicles whose owners nobody reaches on WeCom and an enabled
 * `owner.unreachable` rule: the daily outcomes run gives the vehicle's sales advisor (or, when the
 * sales advisor is not an active member, the rule's fallback advisor) one task each and the
 * advisor's card arrives in the sandbox; running again (and with a second rule) adds no second open
 * task. The owner then adds the advisor in WeChat, the advisor puts the owner's mobile in the
 * remark, the next DMS vehicle import links the vehicle by that mobile, and the task closes by
 * itself; the connectable rate moves from 0 of 2 to 1 of 2.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../../src/domain/auth/token.service.js';
import { CorpModel } from '../../src/domain/corps/corp.model.js';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { ruleCreateSchema } from '../../src/domain/rules/rule.schema.js';
import { RuleService } from '../../src/domain/rules/rule.service.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { vehicleInputSchema } from '../../src/domain/vehicles/vehicle-input.js';
import { VehicleModel } from '../../src/domain/vehicles/vehicle.model.js';
import { upsertVehicle } from '../../src/domain/vehicles/vehicle.service.js';
import { outcomesDailyJob } from '../../src/queues/jobs/outcomes.jobs.js';
import { waitFor } from '../../src/testing/wait.js';
import { botApiApp, startBotHarness, type BotHarness } from './bot.test-support.js';

/** 2026-06-01 (Monday) 10:00 Asia/Shanghai: inside working hours, so a new task's card goes out at once. */
const START = Date.parse('2026-06-01T02:00:00Z');
const local = (iso: string) => Date.parse(`${iso}+08:00`);
const author = { role: 'admin' as const, corps: '*' as const, tokenId: 'e2e' };

/** Made-up DMS rows: the owners' mobiles match no customer yet. */
const OWNED = { vin: 'LFV2A21K0P4700001', model: '星越L', mobile: '13900007001', salesUserid: 'zhangwei' };
const ORPHAN = { vin: 'LFV2A21K0P4700002', model: '博越', mobile: '13900007002', salesUserid: 'xiaozhao' };

let bot: BotHarness;
let server: ReturnType<typeof request>;
let admin: string;
let rules: RuleService;

beforeAll(async () => {
  bot = await startBotHarness({ startAt: START });
  await CorpModel.updateOne(
    { corpId: bot.corpId },
    { $set: { corpId: bot.corpId, kind: 'dealer', displayName: 'demo', timezone: 'Asia/Shanghai', enabled: true } },
    { upsert: true },
  );
  // The directory sync fills these from the sandbox too; upserting keeps the test independent of its timing.
  // xiaozhao sold the second car and has left: the rule's fallback advisor (lina) gets that task.
  for (const [userid, status] of [
    ['zhangwei', 'active'],
    ['lina', 'active'],
    ['xiaozhao', 'left'],
  ] as const)
    await AdvisorModel.updateOne({ corpId: bot.corpId, userid }, { $set: { status } }, { upsert: true });
  server = request(botApiApp(bot).callback());
  admin = (await new TokenService(() => bot.clock.now()).create({ role: 'admin', corps: [] })).token;
  rules = new RuleService(() => bot.clock.now());
}, 60_000);
afterAll(async () => {
  await bot?.stop();
});

const world = () => {
  const corp = bot.sandbox.world.corp(bot.corpId);
  if (!corp) throw new Error('no demo corp in the sandbox');
  return corp;
};

/** The DMS vehicle import of one row (as `npm run import:vehicles` does per row). */
const importVehicle = (row: typeof OWNED) =>
  upsertVehicle(
    {
      corpId: bot.corpId,
      timeZone: 'Asia/Shanghai',
      pd: bot.ctx.pd,
      queues: bot.ctx.queues,
      now: () => bot.clock.now(),
    },
    vehicleInputSchema.parse({ ...row, deliveryDate: '2025-09-01' }),
    'import',
  );

let dailyRuns = 0;
/** The per-corp daily outcomes job (episodes, `owner.unreachable` rules), through the maintenance queue. */
async function runDaily() {
  const job = await outcomesDailyJob.enqueue(
    bot.ctx.queues,
    { corpId: bot.corpId },
    { jobId: `e2e-owner-daily-${++dailyRuns}` },
  );
  await waitFor(async () => (await job.getState()) === 'completed', 'the daily outcomes run');
  await bot.settle('the task cards');
}

async function connectable() {
  const res = await server
    .get(`/api/v1/kpis/outcomes?corpId=${bot.corpId}&from=2026-05-01T00:00:00%2B08:00&to=2026-07-01T00:00:00%2B08:00`)
    .set('authorization', `Bearer ${admin}`);
  expect(res.status).toBe(200);
  return res.body.connectable as { vehicles: number; connectable: number; rate: number };
}

const vehicleId = async (vin: string) => (await VehicleModel.findOne({ corpId: bot.corpId, vin }).lean())?._id;
const ownerTasks = async (vin: string) =>
  TaskModel.find({ corpId: bot.corpId, vehicleId: await vehicleId(vin), kind: 'add_on_wecom' }).lean();

describe('an owner the dealer does not reach on WeCom', () => {
  it('gets one "add on WeCom" task for the sales advisor (else the fallback), with the card, once per episode', async () => {
    expect(await importVehicle(OWNED)).toMatchObject({ status: 'created', linked: false });
    expect(await importVehicle(ORPHAN)).toMatchObject({ status: 'created', linked: false });
    await rules.create(
      author,
      ruleCreateSchema.parse({
        name: '添加车主企微',
        scope: bot.corpId,
        enabled: true,
        trigger: { type: 'owner.unreachable', fallbackAdvisor: 'lina' },
        conditions: { vehicle: { daysSinceDelivery: { min: 30 } } },
        actions: [{ type: 'follow_up', title: '添加车主企业微信', talkTrack: '请添加车主企业微信。', dueIn: '0d' }],
      }),
    );
    expect(await connectable()).toMatchObject({ vehicles: 2, connectable: 0, rate: 0 });

    await runDaily();
    const [owned] = await ownerTasks(OWNED.vin);
    const [orphan] = await ownerTasks(ORPHAN.vin);
    expect(owned).toMatchObject({ status: 'open', advisorUserid: 'zhangwei', title: '添加车主企业微信' });
    expect(owned?.customerId).toBeUndefined();
    expect(orphan).toMatchObject({ status: 'open', advisorUserid: 'lina' });
    // Each advisor's card arrived in WeCom, naming the car by model and VIN tail only.
    for (const [task, userid, row] of [
      [owned, 'zhangwei', OWNED],
      [orphan, 'lina', ORPHAN],
    ] as const) {
      const card = world().messages.find(
        (m) => m.msgtype === 'template_card' && m.taskId === `tk-${String(task?._id)}-1`,
      );
      expect(card?.touser).toEqual([userid]);
      const text = JSON.stringify(card?.body);
      expect(text).toContain(row.vin.slice(-4));
      expect(text).not.toContain(row.vin);
    }

    // The next day, and with a second rule asking the same: still one open task per vehicle.
    await rules.create(
      author,
      ruleCreateSchema.parse({
        name: '添加车主企微（全部车型）',
        scope: bot.corpId,
        enabled: true,
        trigger: { type: 'owner.unreachable', fallbackAdvisor: 'lina' },
        actions: [{ type: 'follow_up', title: '添加车主企业微信', dueIn: '0d' }],
      }),
    );
    bot.clock.set(local('2026-06-02T10:00:00'));
    await runDaily();
    bot.clock.set(local('2026-06-03T10:00:00'));
    await runDaily();
    expect(await ownerTasks(OWNED.vin)).toHaveLength(1);
    expect(await ownerTasks(ORPHAN.vin)).toHaveLength(1);
  });

  it('closes the task by itself once the owner adds the advisor and the DMS import links the car; the connectable rate moves', async () => {
    bot.clock.set(local('2026-06-04T11:00:00'));
    const { externalUserId } = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'zhangwei',
      customer: { name: '测试车主丙' },
    });
    await bot.settle('the add');
    await bot.sandbox.driver.editRelationship({
      corpId: bot.corpId,
      userid: 'zhangwei',
      externalUserId,
      remarkMobiles: [OWNED.mobile],
    });
    await bot.settle('the remark mobile');
    // Added on WeCom, not yet linked to the car: the task is still open.
    expect((await ownerTasks(OWNED.vin))[0]?.status).toBe('open');

    // The next DMS vehicle import carries the same row: its mobile now finds the customer.
    expect(await importVehicle(OWNED)).toMatchObject({ status: 'updated', linked: true });
    await bot.settle('the vehicle link');
    const customer = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId }).lean();
    const [task] = await ownerTasks(OWNED.vin);
    expect(task).toMatchObject({ status: 'done', outcome: 'contacted', advisorUserid: 'zhangwei' });
    expect(String(task?.customerId)).toBe(String(customer?._id));
    expect(task?.history.at(-1)).toMatchObject({
      actor: 'system',
      action: 'completed',
      detail: { reason: 'owner_reachable' },
    });
    expect(await connectable()).toMatchObject({ vehicles: 2, connectable: 1, rate: 0.5 });

    // The daily run ends the episode and asks nothing more about this car; the other stays open, alone.
    bot.clock.set(local('2026-06-05T10:00:00'));
    await runDaily();
    expect(await ownerTasks(OWNED.vin)).toHaveLength(1);
    expect((await VehicleModel.findOne({ corpId: bot.corpId, vin: OWNED.vin }).lean())?.unreachableSince).toBeFalsy();
    const orphan = await ownerTasks(ORPHAN.vin);
    expect(orphan.map((t) => t.status)).toEqual(['open']);
    expect(await TaskModel.countDocuments({ corpId: bot.corpId, kind: 'add_on_wecom', vehicleId: { $ne: null } })).toBe(
      2,
    );
  });
});
