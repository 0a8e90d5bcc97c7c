/**
 * Personal data end to end (docs/data-inventory.md): sandbox → HTTP → ingestion → Redis →
 * workers → dev MongoDB → sandbox API, with every log line captured at debug level. A canary customer (a name
 * and a mobile that appear nowhere else) goes through add → tag → follow-up → message → erase; at
 * each step its plaintext must appear in no log line, no Redis key or value, no MongoDB document,
 * and after erasure not even its keyed hashes. Consent and opt-out are played through the sandbox.
 */
import { Writable } from 'node:stream';
import type Koa from 'koa';
import mongoose from 'mongoose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../../src/domain/auth/token.service.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { customerCtx } from '../../src/domain/customers/personal-data.js';
import { MessageBatchModel, MessageRecipientModel } from '../../src/domain/messages/message.model.js';
import { ExecutionModel } from '../../src/domain/rules/engine/execution.model.js';
import { ruleCreateSchema } from '../../src/domain/rules/rule.schema.js';
import { RuleService } from '../../src/domain/rules/rule.service.js';
import { ScheduleModel } from '../../src/domain/schedules/schedule.model.js';
import { createLogger } from '../../src/infra/logger.js';
import { waitFor } from '../../src/testing/wait.js';
import { botApiApp, startBotHarness, type BotHarness } from './bot.test-support.js';

const CANARY_NAME = '金丝雀测试员柒';
const CANARY_MOBILE = '13912345677';
const NOTICE = {
  enabled: true,
  url: 'https://dealer.example.cn/privacy',
  version: '2026-05',
  label: '个人信息保护说明',
};

const logLines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _enc, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});
let bot: BotHarness;
let api: Koa;
let admin: string;
const as = (token: string) => ({ Authorization: `Bearer ${token}` });
const corpWorld = () => bot.sandbox.world.corp(bot.corpId);

beforeAll(async () => {
  bot = await startBotHarness({
    logger: createLogger({ level: 'debug', name: 'e2e', destination: capture }),
    privacy: { notice: NOTICE, retentionDays: 180 },
    startAt: Date.parse('2026-05-12T03:00:00Z'),
  });
  api = botApiApp(bot);
  admin = (await new TokenService(() => bot.clock.now()).create({ role: 'admin', corps: [] })).token;
  const rules = new RuleService(() => bot.clock.now());
  const author = { role: 'admin' as const, corps: '*' as const, tokenId: 'e2e' };
  await rules.create(
    author,
    ruleCreateSchema.parse({
      name: '欢迎',
      scope: bot.corpId,
      enabled: true,
      priority: 100,
      trigger: { type: 'customer.added' },
      actions: [{ type: 'welcome', text: '您好，我是您的专属顾问。' }],
    }),
  );
  await rules.create(
    author,
    ruleCreateSchema.parse({
      name: '意向跟进',
      scope: bot.corpId,
      enabled: true,
      priority: 100,
      trigger: { type: 'customer.tag_added', tag: { group: '客户阶段', name: '意向' } },
      actions: [
        { type: 'follow_up', title: '意向客户回访', talkTrack: '{客户}您好，试驾安排好了吗？', dueIn: '1d' },
        { type: 'message_customer', text: '本周末店内试驾活动，欢迎到店。' },
      ],
    }),
  );
}, 60_000);
afterAll(async () => {
  await bot?.stop();
});

/** Every key under the bot's Redis prefix with its value(s), whatever the type. */
async function redisDump(): Promise<string> {
  const redis = bot.ctx.redis;
  const prefix = bot.web.config.redis.queuePrefix;
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string'
          ? await redis.get(key)
          : type === 'hash'
            ? await redis.hgetall(key)
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'set'
                ? await redis.smembers(key)
                : type === 'zset'
                  ? await redis.zrange(key, 0, -1, 'WITHSCORES')
                  : type === 'stream'
                    ? await redis.xrange(key, '-', '+')
                    : null;
      parts.push(key, JSON.stringify(value));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}

async function mongoDump(): Promise<string> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('no database');
  const out: string[] = [];
  for (const { name } of await db.listCollections().toArray())
    out.push(JSON.stringify(await db.collection(name).find({}).toArray()));
  return out.join('\n');
}

/** Where the needle was found: logs, Redis, MongoDB (empty when nowhere). */
async function findEverywhere(needles: string[]): Promise<string[]> {
  const places = { logs: logLines.join(''), redis: await redisDump(), mongodb: await mongoDump() };
  return needles.flatMap((n) =>
    Object.entries(places)
      .filter(([, text]) => text.includes(n))
      .map(([where]) => `${n} in ${where}`),
  );
}

describe('the canary customer', () => {
  it('never appears in plaintext in logs, Redis or MongoDB, and after erasure not even its keyed hashes', async () => {
    const hashes = [
      bot.ctx.pd.hash('name', CANARY_NAME),
      bot.ctx.pd.hash('remark', CANARY_NAME),
      bot.ctx.pd.hash('mobile', CANARY_MOBILE),
    ];
    const plain = [CANARY_NAME, CANARY_MOBILE];

    const added = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'zhangwei',
      customer: { name: CANARY_NAME },
      state: 'showroom_qr',
    });
    await bot.settle('the canary add');
    const customer = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId: added.externalUserId }).lean();
    expect(
      bot.ctx.pd.openFor(
        customerCtx({ corpId: bot.corpId, externalUserId: added.externalUserId }, 'nameEnc'),
        customer?.nameEnc,
      ),
    ).toBe(CANARY_NAME);
    // Consent: the welcome carried the notice, the customer record keeps its version and time.
    const welcome = corpWorld()?.welcomes.find((w) => w.external_userid === added.externalUserId);
    expect(welcome?.text).toContain(NOTICE.url);
    expect(customer?.privacyNotice).toMatchObject({ version: '2026-05', channel: 'welcome' });
    expect(await findEverywhere(plain)).toEqual([]);

    // The advisor writes the name and mobile into the remark and tags 意向: follow-up + message.
    await bot.sandbox.driver.editRelationship({
      corpId: bot.corpId,
      userid: 'zhangwei',
      externalUserId: added.externalUserId,
      remark: CANARY_NAME,
      remarkMobiles: [CANARY_MOBILE],
      addTags: ['意向'],
    });
    const recipient = await waitFor(
      () => MessageRecipientModel.findOne({ customerId: customer?._id, status: 'pending' }).lean(),
      'the canary message to await the advisor',
    );
    expect(
      await ScheduleModel.countDocuments({ customerId: customer?._id, kind: 'follow_up', status: 'planned' }),
    ).toBe(1);
    expect(await findEverywhere(plain)).toEqual([]);
    expect((await findEverywhere(hashes)).filter((h) => h.includes('in mongodb')).length).toBeGreaterThan(0); // the look-up index exists

    // Erasure through the API: the pending mass-send task is cancelled in WeCom by the worker.
    const res = await request(api.callback())
      .delete(`/api/v1/customers/${String(customer?._id)}`)
      .set(as(admin))
      .send({ reason: 'customer_request', ticket: 'E2E-1' })
      .expect(200);
    expect(res.body).toMatchObject({ erased: true, relationships: 1, schedules: 1 });
    await waitFor(
      async () => (await MessageBatchModel.findById(recipient?.batchId).lean())?.status === 'cancelled',
      'the mass-send task to be cancelled',
    );
    const msgid = (await MessageBatchModel.findById(recipient?.batchId).lean())?.msgid;
    expect(corpWorld()?.massTasks.find((t) => t.msgid === msgid)?.cancelled).toBe(true);
    await bot.settle('the bot after erasure');

    expect(await findEverywhere([...plain, ...hashes, added.externalUserId])).toEqual([]);

    // Still the advisor's contact in WeCom: a later edit callback must not collect them again.
    await bot.sandbox.driver.editRelationship({
      corpId: bot.corpId,
      userid: 'zhangwei',
      externalUserId: added.externalUserId,
      remark: CANARY_NAME,
    });
    await bot.settle('the edit after erasure');
    expect(await CustomerModel.countDocuments({ corpId: bot.corpId, externalUserId: added.externalUserId })).toBe(0);
    // The new callback itself sits in its completed wecom-inbound job, which expires within a day
    // (docs/data-inventory.md); nothing else holds the canary again.
    expect(
      (await findEverywhere([...plain, ...hashes, added.externalUserId])).filter((hit) => !hit.endsWith(' in redis')),
    ).toEqual([]);
    expect(logLines.length).toBeGreaterThan(20); // debug logging really was captured
  });
});

describe('opt-out through the sandbox', () => {
  it('an opt-out after the message was created cancels the WeCom task; an opted-out customer gets no message', async () => {
    const added = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'lina',
      customer: { name: '退订客户捌' },
      state: 'showroom_qr',
    });
    await bot.settle();
    await bot.sandbox.driver.editRelationship({
      corpId: bot.corpId,
      userid: 'lina',
      externalUserId: added.externalUserId,
      addTags: ['意向'],
    });
    const customer = await CustomerModel.findOne({ externalUserId: added.externalUserId }).lean();
    const pending = await waitFor(
      () => MessageRecipientModel.findOne({ customerId: customer?._id, status: 'pending' }).lean(),
      'a pending message',
    );
    const batch = await MessageBatchModel.findById(pending?.batchId).lean();

    await request(api.callback())
      .post(`/api/v1/customers/${String(customer?._id)}/opt-out`)
      .set(as(admin))
      .send({ source: 'advisor_reported' })
      .expect(200);
    await waitFor(
      async () => corpWorld()?.massTasks.find((t) => t.msgid === batch?.msgid)?.cancelled === true,
      'WeCom task cancelled',
    );
    await bot.settle();
    expect(await MessageRecipientModel.findById(pending?._id).lean()).toMatchObject({
      status: 'cancelled',
      reason: 'opted_out',
    });

    // Checked when the rule fires: a customer who withdrew consent gets no message, the follow-up still plans.
    const other = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'lina',
      customer: { name: '撤回同意客户玖' },
      state: 'showroom_qr',
    });
    await bot.settle();
    const otherCustomer = await CustomerModel.findOne({ externalUserId: other.externalUserId }).lean();
    await request(api.callback())
      .post(`/api/v1/customers/${String(otherCustomer?._id)}/opt-out`)
      .set(as(admin))
      .send({ source: 'consent_withdrawn' })
      .expect(200);
    await bot.sandbox.driver.editRelationship({
      corpId: bot.corpId,
      userid: 'lina',
      externalUserId: other.externalUserId,
      addTags: ['意向'],
    });
    await bot.settle();
    const executions = await ExecutionModel.find({ subject: String(otherCustomer?._id) }).lean();
    expect(
      executions
        .flatMap((e) => e.actions)
        .filter((a) => a.type === 'message_customer')
        .map((a) => a.reason),
    ).toEqual(['opted_out']);
    expect(await MessageRecipientModel.countDocuments({ customerId: otherCustomer?._id })).toBe(0);
  });
});
