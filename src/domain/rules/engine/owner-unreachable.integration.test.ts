/**
 * "Add this owner on WeCom" tasks (docs/outcomes.md): the `owner.unreachable` trigger, its
 * validation, one open task per vehicle, once per unreachable episode, and the task closing by
 * itself when the owner becomes reachable; against the dev MongoDB server and the WeCom sandbox.
 */
import { Types } from 'mongoose';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../auth/principal.js';
import { AdvisorModel } from '../../customers/advisor.model.js';
import { CustomerModel } from '../../customers/customer.model.js';
import { RelationshipModel } from '../../customers/relationship.model.js';
import { markUnreachableEpisodes } from '../../outcomes/unreachable-episodes.js';
import { advisorCard, loadTaskView } from '../../tasks/task-card.js';
import type { TaskDeps } from '../../tasks/task-deps.js';
import { handleTaskDomainEvent } from '../../tasks/task-events.js';
import { TaskModel } from '../../tasks/task.model.js';
import { defaultTaskSettings } from '../../tasks/task-settings.js';
import { closeReachableOwnerTasks, createVehicleTask } from '../../tasks/vehicle-tasks.js';
import { DEFAULT_TUNING } from '../../tuning.js';
import { VehicleModel } from '../../vehicles/vehicle.model.js';
import { RuleModel } from '../rule.model.js';
import { ruleBodySchema, ruleCreateSchema, type RuleBodyInput } from '../rule.schema.js';
import { RuleService } from '../rule.service.js';
import { DEMO_CORP_ID, type EngineHarness, useEngineHarness } from './engine.test-support.js';
import { ExecutionModel } from './execution.model.js';
import { evaluateOwnerUnreachableRules } from './owner-unreachable.js';
import { previewRule } from '../preview.js';

let h: EngineHarness;
useEngineHarness('owner-unreachable', (harness) => (h = harness));
const admin: Principal = { role: 'admin', corps: '*', tokenId: 'test' };
const corpId = DEMO_CORP_ID;

const VIN_A = 'LVSHCAMB1CE000001';
const VIN_B = 'LVSHCAMB1CE000002';
const VIN_C = 'LVSHCAMB1CE000003';
const VIN_D = 'LVSHCAMB1CE000004';

const day = (iso: string) => new Date(`${iso}T00:00:00+08:00`);

beforeEach(async () => {
  await Promise.all(
    [RuleModel, ExecutionModel, TaskModel, VehicleModel, CustomerModel, RelationshipModel, AdvisorModel].map((m) =>
      (m as typeof RuleModel).deleteMany({}),
    ),
  );
  h.clock.set(Date.parse('2026-05-10T02:00:00Z'));
  await AdvisorModel.create([
    { corpId, userid: 'zhangwei', name: '张伟', status: 'active' },
    { corpId, userid: 'lisi', name: '李四', status: 'active' },
    { corpId, userid: 'gone', name: '离职', status: 'left' },
  ]);
});

const taskDeps = (): TaskDeps => ({
  ...h.deps,
  settings: defaultTaskSettings,
  redis: h.redis,
  keyPrefix: 'owner-unreachable-test',
  tuning: DEFAULT_TUNING,
});
const engineDeps = () => ({ ...h.deps, tasks: taskDeps() });

const rule = (over: Partial<RuleBodyInput> = {}): RuleBodyInput => ({
  name: '添加车主企微',
  scope: corpId,
  trigger: { type: 'owner.unreachable', fallbackAdvisor: 'lisi' },
  conditions: { vehicle: { models: ['瑶光'], daysSinceDelivery: { min: 30 } } },
  actions: [{ type: 'follow_up', title: '添加车主企业微信', dueIn: '0d', sla: '3d' }],
  ...over,
});
const createRule = (body: RuleBodyInput) =>
  new RuleService(() => h.clock.now()).create(admin, ruleCreateSchema.parse({ ...body, enabled: true }));

async function customerWithRelationship(status: 'active' | 'deleted_by_customer' = 'active') {
  const externalUserId = `wm${new Types.ObjectId().toHexString()}`;
  const c = await CustomerModel.create({ corpId, externalUserId });
  await RelationshipModel.create({ corpId, userid: 'zhangwei', externalUserId, customerId: c._id, status });
  return c;
}

async function seedVehicles() {
  const linked = await customerWithRelationship('active');
  return VehicleModel.create([
    { corpId, vin: VIN_A, model: '星途瑶光', deliveryDate: day('2026-01-05'), salesUserid: 'zhangwei', source: 'api' },
    { corpId, vin: VIN_B, model: '星途瑶光', deliveryDate: day('2026-01-05'), customerId: linked._id, source: 'api' },
    { corpId, vin: VIN_C, model: '星途瑶光 C-DM', deliveryDate: day('2026-02-01'), salesUserid: 'gone', source: 'api' },
    { corpId, vin: VIN_D, model: '揽月', deliveryDate: day('2026-01-05'), salesUserid: 'zhangwei', source: 'api' },
  ]);
}

async function daily() {
  const now = h.clock.now();
  const episodes = await markUnreachableEpisodes(corpId, now);
  const closed = await closeReachableOwnerTasks(corpId, episodes.ended, now);
  const rules = await evaluateOwnerUnreachableRules(engineDeps());
  return { ...episodes, closed, ...rules };
}

describe('owner.unreachable: validation', () => {
  it('refuses any action but follow_up, customer conditions and a holdout, saying why', () => {
    const r = ruleBodySchema.safeParse(
      rule({
        actions: [{ type: 'message_customer', text: '您好' }],
        conditions: { lifecycle: ['owner'] },
        holdoutShare: 0.1,
      }),
    );
    expect(r.success).toBe(false);
    const messages = r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(messages.some((m) => m.startsWith('actions.0.type: an owner.unreachable rule can only create a task'))).toBe(
      true,
    );
    expect(messages.some((m) => m.startsWith('conditions.lifecycle: an owner.unreachable rule has no customer'))).toBe(
      true,
    );
    expect(messages.some((m) => m.startsWith('holdoutShare:'))).toBe(true);
  });

  it('refuses vehicle conditions on another trigger', () => {
    const r = ruleBodySchema.safeParse(rule({ trigger: { type: 'customer.became_owner' } }));
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['conditions.vehicle']);
  });
});

describe('owner.unreachable: tasks', () => {
  it('creates one task per matching unreachable vehicle, for the active sales advisor else the fallback, once per episode', async () => {
    await seedVehicles();
    await createRule(rule());
    const first = await daily();
    expect(first).toMatchObject({ unreachable: 3, started: 3, rules: 1, ran: 2, closed: 0 });
    const tasks = await TaskModel.find({ corpId }).sort({ advisorUserid: 1 }).lean();
    const vins = new Map((await VehicleModel.find({ corpId }).lean()).map((v) => [String(v._id), v.vin]));
    expect(tasks.map((t) => [vins.get(String(t.vehicleId)), t.advisorUserid, t.kind, t.status])).toEqual([
      [VIN_C, 'lisi', 'add_on_wecom', 'open'],
      [VIN_A, 'zhangwei', 'add_on_wecom', 'open'],
    ]);
    expect(tasks.every((t) => !t.customerId && t.reason === '添加车主企微')).toBe(true);

    // The next days of the same episode: nothing new.
    h.clock.set(Date.parse('2026-05-11T02:00:00Z'));
    expect(await daily()).toMatchObject({ started: 0, ran: 0 });
    expect(await TaskModel.countDocuments({ corpId })).toBe(2);
  });

  it('keeps at most one open task per vehicle, across rules and direct inserts', async () => {
    const [a] = await seedVehicles();
    await createRule(rule());
    await createRule(rule({ name: '第二条规则', conditions: {} }));
    await daily();
    expect(await TaskModel.countDocuments({ corpId, vehicleId: a?._id, status: 'open' })).toBe(1);
    const again = await createVehicleTask(taskDeps(), {
      vehicleId: a?._id as Types.ObjectId,
      ruleId: new Types.ObjectId().toHexString(),
      ruleVersion: 1,
      reason: 'x',
      advisorUserid: 'zhangwei',
      dueAt: h.clock.now(),
      title: 't',
    });
    expect(again.outcome).toBe('existing');
    await expect(
      TaskModel.collection.insertOne({
        corpId,
        vehicleId: a?._id,
        kind: 'add_on_wecom',
        status: 'open',
      }),
    ).rejects.toMatchObject({ code: 11000 });
    // A closed task does not block a new one.
    await TaskModel.updateMany({ corpId, vehicleId: a?._id }, { $set: { status: 'unreachable' } });
    const fresh = await createVehicleTask(taskDeps(), {
      vehicleId: a?._id as Types.ObjectId,
      ruleId: new Types.ObjectId().toHexString(),
      ruleVersion: 1,
      reason: 'x',
      advisorUserid: 'zhangwei',
      dueAt: h.clock.now(),
      title: 't',
    });
    expect(fresh.outcome).toBe('created');
  });

  it('closes the task as done when the owner becomes reachable, and a new episode can task again', async () => {
    const [a] = await seedVehicles();
    await createRule(rule());
    await daily();
    const customer = await customerWithRelationship('active');
    await VehicleModel.updateOne({ corpId, _id: a?._id }, { $set: { customerId: customer._id } });
    const out = await handleTaskDomainEvent(taskDeps(), {
      id: 'e1',
      type: 'vehicle.linked',
      corpId,
      sourceId: `vehicle-${VIN_A}-${String(customer._id)}`,
      occurredAt: h.clock.now().toISOString(),
      customerId: String(customer._id),
      vehicleId: String(a?._id),
      data: { vin: VIN_A, model: '星途瑶光' },
    } as never);
    expect(out.closed).toBe(1);
    const done = await TaskModel.findOne({ corpId, vehicleId: a?._id }).lean();
    expect(done).toMatchObject({ status: 'done', outcome: 'contacted', customerId: customer._id });
    expect(done?.history.at(-1)).toMatchObject({ actor: 'system', detail: { reason: 'owner_reachable' } });

    // The daily run ends the episode; the owner deletes the advisor later: a new episode, a new task.
    h.clock.set(Date.parse('2026-05-11T02:00:00Z'));
    expect(await daily()).toMatchObject({ started: 0, ran: 0 });
    await RelationshipModel.updateMany(
      { corpId, customerId: customer._id },
      { $set: { status: 'deleted_by_customer' } },
    );
    h.clock.set(Date.parse('2026-05-12T02:00:00Z'));
    expect(await daily()).toMatchObject({ started: 1, ran: 1 });
    expect(await TaskModel.countDocuments({ corpId, vehicleId: a?._id, status: 'open' })).toBe(1);
  });

  it('names the vehicle on the card by model and VIN tail, never the whole VIN', async () => {
    await seedVehicles();
    await createRule(rule());
    await daily();
    const task = await TaskModel.findOne({ corpId, advisorUserid: 'zhangwei' }).lean();
    if (!task) throw new Error('no task');
    const view = await loadTaskView(h.deps, task);
    expect(view).toMatchObject({ customer: '星途瑶光 · VIN …0001', vehicle: { model: '星途瑶光', vinTail: '…0001' } });
    const card = JSON.stringify(advisorCard(task, view, 'tk-x-1', 'http://localhost'));
    expect(card).toContain('…0001');
    expect(card).not.toContain(VIN_A);
  });
});

describe('owner.unreachable: preview', () => {
  it('counts the unreachable vehicles the vehicle conditions match', async () => {
    await seedVehicles();
    await markUnreachableEpisodes(corpId, h.clock.now());
    const r = await previewRule(ruleBodySchema.parse(rule()), {
      corpId,
      timeZone: 'Asia/Shanghai',
      quietHours: null,
      now: h.clock.now(),
    });
    expect(r).toMatchObject({ matching: 2, scanned: 3, exact: true });
  });
});
