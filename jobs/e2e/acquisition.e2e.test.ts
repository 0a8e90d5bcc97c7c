/**
 * Channel codes and leads (docs/acquisition.md) end to end: the bot makes, edits, deletes and
 * reconciles WeCom contact ways in the sandbox; scans are attributed; team codes follow shifts and
 * caps; leads are de-duplicated, routed (also outside working hours), carded, escalated, matched
 * and converted — the whole bot with one ManualClock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  saveAcquisitionSettings,
  acquisitionSettingsSchema,
} from '../../src/domain/acquisition/acquisition-settings.js';
import { channelKpis } from '../../src/domain/acquisition/acquisition-kpis.js';
import {
  createChannel,
  deleteChannel,
  updateChannel,
  type ChannelApiDeps,
} from '../../src/domain/acquisition/channel.service.js';
import { reconcileChannels } from '../../src/domain/acquisition/channel-sync.js';
import { AdvisorAvailabilityModel, ChannelAddModel, ChannelModel } from '../../src/domain/acquisition/channel.model.js';
import { recordSale } from '../../src/domain/acquisition/lead-actions.js';
import { importLeadRows } from '../../src/domain/acquisition/lead-import.js';
import { ingestLeads, type LeadIntakeDeps } from '../../src/domain/acquisition/lead-intake.js';
import { runLeadTick } from '../../src/domain/acquisition/lead-sla.js';
import { LeadModel } from '../../src/domain/acquisition/lead.model.js';
import { requestTeamRefresh } from '../../src/domain/acquisition/team-codes.js';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { defaultTaskSettings } from '../../src/domain/tasks/task-settings.js';
import { taskDepsFor } from '../processors/tasks.handlers.js';
import { VehicleModel } from '../../src/domain/vehicles/vehicle.model.js';
import { waitFor } from '../../src/testing/wait.js';
import { startBotHarness, type BotHarness } from './bot.test-support.js';

/** 2026-06-01 (Monday) 10:00 Asia/Shanghai. */
const START = Date.parse('2026-06-01T02:00:00Z');
const local = (iso: string) => Date.parse(`${iso}+08:00`);
const MINUTE = 60_000;

let bot: BotHarness;
let channelDeps: ChannelApiDeps;
let intake: LeadIntakeDeps;

beforeAll(async () => {
  bot = await startBotHarness({ startAt: START, tuning: { teamRefreshWindowMs: 200 } });
  for (const [userid, leads] of [
    ['wangqiang', [2]],
    ['zhangwei', []],
    ['lina', []],
    ['liuyang', []],
  ] as const) {
    await AdvisorModel.updateOne(
      { corpId: bot.corpId, userid },
      {
        $set: {
          name: userid,
          departments: [2],
          leadsDepartments: [...leads],
          directLeaders: userid === 'wangqiang' ? [] : ['wangqiang'],
          status: 'active',
        },
      },
      { upsert: true },
    );
  }
  channelDeps = {
    corpId: bot.corpId,
    queues: bot.ctx.queues,
    clock: bot.clock,
    deliveryPrefixes: bot.corp.retention?.deliveryStatePrefixes ?? ['delivery'],
  };
  intake = {
    pd: bot.ctx.pd,
    queues: bot.ctx.queues,
    clock: bot.clock,
    timeZone: 'Asia/Shanghai',
    workingHours: defaultTaskSettings.workingHours,
  };
}, 60_000);
afterAll(async () => {
  await bot?.stop();
});

const world = () => {
  const corp = bot.sandbox.world.corp(bot.corpId);
  if (!corp) throw new Error('no demo corp in the sandbox');
  return corp;
};
const wayOf = (configId: string | null | undefined) =>
  (world().contactWays ?? []).find((w) => w.config_id === configId);
const calls = (endpoint: string) => bot.sandbox.context.calls.list({ endpoint, corpId: bot.corpId });
const deps = () => {
  const d = taskDepsFor(bot.ctx, bot.corpId, bot.ctx.logger);
  if (!d) throw new Error('no deps');
  return d;
};
const cardsTo = (userid: string) =>
  world().messages.filter((m) => m.msgtype === 'template_card' && m.touser.includes(userid));

describe('channel codes', () => {
  it('creating, editing and deleting a channel keeps the WeCom contact way in step', async () => {
    const created = await createChannel(channelDeps, {
      name: '展厅前台码',
      kind: 'personal',
      advisors: ['zhangwei'],
      skipVerify: false,
      campaign: '六月车展',
    });
    expect(created.state.length).toBeLessThanOrEqual(30);
    await bot.settle('the add');
    const synced = await ChannelModel.findById(created._id).lean();
    expect(synced?.syncState).toBe('synced');
    expect(synced?.qrCode).toMatch(/\/__sandbox\/qr\//);
    expect(wayOf(synced?.configId)).toMatchObject({
      type: 1,
      state: created.state,
      remark: '展厅前台码',
      skip_verify: false,
      user: ['zhangwei'],
    });

    await updateChannel(channelDeps, String(created._id), { name: '展厅前台码B' });
    await bot.settle('the edit');
    // The whole object went out: state and verification survive an edit of the name only.
    expect(wayOf(synced?.configId)).toMatchObject({
      state: created.state,
      remark: '展厅前台码B',
      skip_verify: false,
      user: ['zhangwei'],
    });
    const update = calls('externalcontact/update_contact_way').at(-1);
    expect(update?.body).toMatchObject({ state: created.state, skip_verify: false, remark: '展厅前台码B' });

    const scan = await bot.sandbox.driver.scanContactWay({
      corpId: bot.corpId,
      configId: synced?.configId ?? '',
      customer: { name: '测试扫码客' },
    });
    await bot.settle('the scan');
    const add = await ChannelAddModel.findOne({ corpId: bot.corpId, externalUserId: scan.externalUserId }).lean();
    expect(String(add?.channelId)).toBe(String(created._id));
    expect(add).toMatchObject({ userid: 'zhangwei', campaign: '六月车展' });

    await deleteChannel(channelDeps, String(created._id));
    await bot.settle('the delete');
    expect(wayOf(synced?.configId)).toBeUndefined();
    expect((await ChannelModel.findById(created._id).lean())?.syncState).toBe('deleted');
    const kpis = await channelKpis(bot.corpId);
    expect(kpis.channels.find((c) => c.channelId === String(created._id))?.adds).toBe(1);
  });

  it("reconciliation puts back a code changed behind the bot's back and flags a removed one", async () => {
    const a = await createChannel(channelDeps, {
      name: '车展码A',
      kind: 'event',
      advisors: ['zhangwei', 'lina'],
      skipVerify: true,
    });
    const b = await createChannel(channelDeps, {
      name: '车展码B',
      kind: 'event',
      advisors: ['lina'],
      skipVerify: true,
    });
    await bot.settle('two adds');
    const [ca, cb] = await Promise.all([ChannelModel.findById(a._id).lean(), ChannelModel.findById(b._id).lean()]);
    const wayA = wayOf(ca?.configId);
    if (!wayA) throw new Error('no contact way');
    wayA.state = 'hijacked';
    wayA.user = ['liuyang'];
    world().contactWays = (world().contactWays ?? []).filter((w) => w.config_id !== cb?.configId);
    const summary = await reconcileChannels(deps());
    expect(summary).toMatchObject({ drifted: 1, missing: 1 });
    expect(wayOf(ca?.configId)).toMatchObject({ state: a.state, user: ['zhangwei', 'lina'] });
    expect((await ChannelModel.findById(b._id).lean())?.syncState).toBe('missing');
  });

  it('counts and lists an add whose state no channel knows', async () => {
    await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'lina',
      state: 'poster_unknown_7',
      customer: { name: '未知渠道客' },
    });
    await bot.settle('the add');
    const kpis = await channelKpis(bot.corpId);
    expect(kpis.unknown.states).toContainEqual({ state: 'poster_unknown_7', adds: 1 });
  });

  it('a team code carries the advisors on shift and under their cap, and a scan reaches one of them', async () => {
    const team = await createChannel(channelDeps, {
      name: '展厅团队码',
      kind: 'team',
      advisors: ['zhangwei', 'lina', 'liuyang'],
      skipVerify: true,
    });
    await bot.settle('the add');
    const configId = (await ChannelModel.findById(team._id).lean())?.configId;
    expect(wayOf(configId)?.type).toBe(2);
    expect(wayOf(configId)?.user).toEqual(['zhangwei', 'lina', 'liuyang']);

    await AdvisorAvailabilityModel.updateOne(
      { corpId: bot.corpId, userid: 'lina' },
      { $set: { offShift: true } },
      { upsert: true },
    );
    await requestTeamRefresh(bot.ctx, bot.corpId, 'lina');
    await waitFor(
      () => (wayOf(configId)?.user.join(',') === 'zhangwei,liuyang' ? true : undefined),
      'lina off the team code',
    );

    await AdvisorAvailabilityModel.updateOne(
      { corpId: bot.corpId, userid: 'liuyang' },
      { $set: { leadCap: 0 } },
      { upsert: true },
    );
    await requestTeamRefresh(bot.ctx, bot.corpId, 'liuyang');
    await waitFor(() => (wayOf(configId)?.user.join(',') === 'zhangwei' ? true : undefined), 'liuyang at the cap');

    const scan = await bot.sandbox.driver.scanContactWay({ corpId: bot.corpId, configId: configId ?? '' });
    expect(scan.userid).toBe('zhangwei');
    await AdvisorAvailabilityModel.deleteMany({ corpId: bot.corpId });
    await requestTeamRefresh(bot.ctx, bot.corpId);
    await waitFor(() => (wayOf(configId)?.user.length === 3 ? true : undefined), 'everyone back');
    await bot.settle('the scan');
  });

  it('a delivery-ceremony code made for one delivery makes an owner and links the vehicle', async () => {
    const vin = 'LVSHCAME0PE200001';
    await VehicleModel.create({ corpId: bot.corpId, vin, model: '星途瑶光', source: 'api' });
    const ch = await createChannel(channelDeps, {
      name: '交车仪式-瑶光',
      kind: 'delivery',
      advisors: ['zhangwei'],
      vehicleVin: vin,
      skipVerify: true,
    });
    expect(ch.state.startsWith(channelDeps.deliveryPrefixes[0] ?? 'delivery')).toBe(true);
    await bot.settle('the add');
    const configId = (await ChannelModel.findById(ch._id).lean())?.configId ?? '';
    const scan = await bot.sandbox.driver.scanContactWay({
      corpId: bot.corpId,
      configId,
      customer: { name: '交车客户' },
    });
    await bot.settle('the scan, owner and link');
    const customer = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId: scan.externalUserId }).lean();
    expect(customer?.lifecycle?.stage).toBe('owner');
    expect(String((await VehicleModel.findOne({ corpId: bot.corpId, vin }).lean())?.customerId)).toBe(
      String(customer?._id),
    );
  });
});

describe('leads', () => {
  it('de-duplicates, routes, cards, escalates and reassigns an uncontacted lead', async () => {
    bot.clock.set(START + 60 * MINUTE);
    const [first] = await ingestLeads(
      intake,
      bot.corpId,
      [{ source: 'dcc', sourceId: 'dcc-0001', name: '测试线索甲', mobile: '139-0000-0001', model: '星途瑶光' }],
      { actor: 'test' },
    );
    expect(first?.status).toBe('created');
    const leadId = first?.status === 'created' ? first.leadId : '';
    const advisor = first?.status === 'created' ? first.advisorUserid : null;
    expect(advisor).toBeTruthy();
    const dupes = await ingestLeads(
      intake,
      bot.corpId,
      [
        { source: 'autohome', mobile: '+8613900000001' },
        { source: 'dcc', sourceId: 'dcc-0001', mobile: '13900000009' },
        { source: 'nowhere', mobile: '1' },
      ],
      { actor: 'test' },
    );
    expect(dupes.map((d) => d.status)).toEqual(['merged', 'merged', 'rejected']);
    expect((await LeadModel.findById(leadId).lean())?.repeatCount).toBe(2);
    expect(await LeadModel.countDocuments({ corpId: bot.corpId })).toBe(1);

    await bot.settle('the card');
    expect(cardsTo(advisor ?? '').some((m) => m.taskId === `ld-${leadId}-1`)).toBe(true);

    bot.clock.set(START + 60 * MINUTE + 16 * MINUTE);
    expect((await runLeadTick(deps())).reminded).toBe(1);
    bot.clock.set(START + 60 * MINUTE + 32 * MINUTE);
    expect((await runLeadTick(deps())).escalated).toBe(1);
    await waitFor(
      () => (cardsTo('wangqiang').some((m) => m.taskId?.startsWith(`lde-${leadId}-1-`)) ? true : undefined),
      "the leader's escalation card",
    );
    bot.clock.set(START + 60 * MINUTE + 63 * MINUTE);
    expect((await runLeadTick(deps())).reassigned).toBe(1);
    const moved = await LeadModel.findById(leadId).lean();
    expect(moved?.advisorUserid).not.toBe(advisor);
    expect(moved?.assignment).toBe(2);
    await bot.settle('the new card');
    expect(cardsTo(moved?.advisorUserid ?? '').some((m) => m.taskId === `ld-${leadId}-2`)).toBe(true);

    await bot.sandbox.driver.clickCardButton({
      corpId: bot.corpId,
      userid: moved?.advisorUserid ?? '',
      taskId: `ld-${leadId}-2`,
      eventKey: 'lead_contacted',
    });
    await bot.settle('the click');
    const contacted = await LeadModel.findById(leadId).lean();
    expect(contacted).toMatchObject({ stage: 'contacted', contactedVia: 'card' });
    expect(contacted?.slaCheckpointAt).toBeUndefined();
  });

  it("routes by the corp's rules, matches the add through the lead code and converts on a sale", async () => {
    await saveAcquisitionSettings(
      bot.corpId,
      acquisitionSettingsSchema.parse({
        rules: [
          { name: '汽车之家→刘洋', sources: ['autohome'], advisors: ['liuyang'] },
          { name: '其他', departments: [2] },
        ],
      }),
    );
    const code = await createChannel(channelDeps, {
      name: '刘洋的线索码',
      kind: 'lead',
      advisors: ['liuyang'],
      skipVerify: true,
    });
    await bot.settle('the lead code');
    const [r] = await ingestLeads(
      intake,
      bot.corpId,
      [{ source: 'autohome', sourceId: 'ah-77', name: '测试线索乙', mobile: '13900000002', model: '星途揽月' }],
      { actor: 'test' },
    );
    expect(r).toMatchObject({ status: 'created', advisorUserid: 'liuyang' });
    const leadId = r?.status === 'created' ? r.leadId : '';
    await bot.settle('the card');
    const card = cardsTo('liuyang').find((m) => m.taskId === `ld-${leadId}-1`);
    expect(JSON.stringify(card?.body)).toContain('我的线索码');

    const configId = (await ChannelModel.findById(code._id).lean())?.configId ?? '';
    const scan = await bot.sandbox.driver.scanContactWay({
      corpId: bot.corpId,
      configId,
      customer: { name: '测试线索乙' },
    });
    await bot.settle('the add and the match');
    const matched = await LeadModel.findById(leadId).lean();
    expect(matched).toMatchObject({ stage: 'added', externalUserId: scan.externalUserId, contactedVia: 'wecom_add' });

    await recordSale({ corpId: bot.corpId, clock: bot.clock, queues: bot.ctx.queues }, leadId, 'test');
    await bot.settle('the owner');
    expect(await LeadModel.findById(leadId).lean()).toMatchObject({ stage: 'delivered', outcome: 'won' });
    expect((await CustomerModel.findById(matched?.customerId).lean())?.lifecycle?.stage).toBe('owner');
    await saveAcquisitionSettings(bot.corpId, acquisitionSettingsSchema.parse({}));
  });

  it('imports a CSV through the same intake: duplicates in the file merge, bad rows come back with their line', async () => {
    bot.clock.set(START + 3 * 60 * MINUTE);
    const rows: Array<{ line: number; record: Record<string, string> }> = [
      { line: 2, record: { source: 'yiche', mobile: '13900000011', name: '测试导入甲', model: '星途凌云' } },
      { line: 3, record: { source: 'yiche', mobile: '139 0000 0011' } },
      { line: 4, record: { source: 'fax', mobile: '13900000012' } },
      { line: 5, record: { source: 'trade_in', source_id: 'ti-5', budget: '15万' } },
    ];
    const summary = await importLeadRows(intake, bot.corpId, rows, 'import:test.csv');
    expect(summary).toMatchObject({ rows: 4, created: 2, merged: 1 });
    expect(summary.rejected.map((r) => r.line)).toEqual([4]);
    expect(summary.rejected[0]?.problems.join()).toMatch(/source is one of/);
    await bot.settle('cards');
  });

  it('a lead arriving outside working hours waits for the next start unless someone is on duty', async () => {
    bot.clock.set(local('2026-06-01T22:00:00'));
    const [late] = await ingestLeads(intake, bot.corpId, [{ source: 'short_video', mobile: '13900000003' }], {
      actor: 'test',
    });
    expect(late).toMatchObject({
      status: 'created',
      advisorUserid: null,
      routeAt: new Date(local('2026-06-02T08:30:00')).toISOString(),
    });
    await AdvisorAvailabilityModel.updateOne(
      { corpId: bot.corpId, userid: 'lina' },
      { $set: { onDuty: true } },
      { upsert: true },
    );
    const [duty] = await ingestLeads(intake, bot.corpId, [{ source: 'yiche', mobile: '13900000004' }], {
      actor: 'test',
    });
    expect(duty).toMatchObject({ status: 'created', advisorUserid: 'lina' });
    await AdvisorAvailabilityModel.deleteMany({ corpId: bot.corpId });
    bot.clock.set(local('2026-06-02T08:31:00'));
    expect((await runLeadTick(deps())).routed).toBe(1);
    const id = late?.status === 'created' ? late.leadId : '';
    expect((await LeadModel.findById(id).lean())?.advisorUserid).toBeTruthy();
    await bot.settle('cards');
  });
});
