/**
 * Every query the bot sends to a per-corp collection names the corp (docs/scale.md, "MongoDB"):
 * a sharded cluster with `corpId` leading each shard key can then send it to one shard. The bot
 * runs end to end (sandbox → HTTP callback → Redis → worker → MongoDB) against a dev MongoDB
 * server of its own that hands every command it receives to the test; representative flows run
 * (adds with welcome, tag and rules, edits, a lost customer, a vehicle link with its follow-up,
 * the sweep and the task tick with cards), then each find, update, delete, findAndModify, count,
 * distinct and aggregate on a per-corp collection must carry `corpId` in its filter, or be one
 * of the known shapes listed in docs/scale.md.
 */
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevMongo, type DevMongoServer } from '../../scripts/dev-mongo/index.js';
import { RuleService } from '../../src/domain/rules/rule.service.js';
import { ruleCreateSchema } from '../../src/domain/rules/rule.schema.js';
import { runSweep } from '../../src/domain/schedules/sweep.js';
import { runTaskTickExclusive } from '../../src/domain/tasks/task-tick.js';
import { vehicleInputSchema } from '../../src/domain/vehicles/vehicle-input.js';
import { upsertVehicle } from '../../src/domain/vehicles/vehicle.service.js';
import { taskDepsFor } from '../processors/tasks.handlers.js';
import { startBotHarness, type BotHarness } from './bot.test-support.js';

/**
 * Query shapes (command, collection, filter fields) without `corpId` that exist today, each
 * listed in docs/scale.md ("Queries without corpId"): the cross-corp scans that run a few times a
 * minute by design, and the look-ups by a globally unique id that still have to gain `corpId`
 * before those collections are sharded. A shape not listed here fails the test.
 */
const KNOWN = new Set([
  // Cross-corp by design: the sweep's due schedules, its recovery of schedules enqueued long ago, and its marking by id.
  'find schedules dueAt,status',
  'find schedules enqueuedAt,status',
  'update schedules _id,status',
  // Cross-corp by design: the outbox relay reads and marks relayed events by id.
  'find outbox_events _id,status',
  'update outbox_events _id,status',
  'update outbox_events _id',
  // Cross-corp by design: the relay loop's scan for ledger records whose inline lease expired.
  'find domain_events leaseUntil',
  'count domain_events leaseUntil',
  // By a globally unique id (the id embeds the corp or is an ObjectId): to gain corpId.
  'find inbound_events dedupKey',
  'update inbound_events dedupKey',
  'find domain_events eventId',
  'update domain_events eventId',
  'update customers _id,lifecycle.stage',
  'find customers _id',
  'findAndModify schedules key,status',
  'findAndModify schedules key',
  'find schedules _id',
  'update tasks scheduleId',
  'find tasks scheduleId',
  'update tasks _id,cardSeq',
]);

const shapeOf = (s: { command: string; collection: string; filter: unknown }) =>
  `${s.command} ${s.collection} ${Object.keys((s.filter ?? {}) as object)
    .sort()
    .join(',')}`;

interface Seen {
  command: string;
  collection: string;
  filter: unknown;
}

const FILTER_OF: Record<string, (cmd: Record<string, unknown>) => unknown[]> = {
  find: (c) => [c.filter ?? {}],
  count: (c) => [c.query ?? {}],
  distinct: (c) => [c.query ?? {}],
  findAndModify: (c) => [c.query ?? {}],
  update: (c) => ((c.updates as Array<{ q: unknown }> | undefined) ?? []).map((u) => u.q),
  delete: (c) => ((c.deletes as Array<{ q: unknown }> | undefined) ?? []).map((d) => d.q),
  aggregate: (c) => [((c.pipeline as Array<Record<string, unknown>> | undefined) ?? [])[0]?.$match ?? {}],
};

/** Whether a filter restricts the corp: `corpId` at its top, in an `$and` branch, or in every `$or` branch. */
function namesCorp(filter: unknown): boolean {
  if (!filter || typeof filter !== 'object') return false;
  const f = filter as Record<string, unknown>;
  if ('corpId' in f) return true;
  if (Array.isArray(f.$and) && f.$and.some(namesCorp)) return true;
  if (Array.isArray(f.$or) && f.$or.length > 0 && f.$or.every(namesCorp)) return true;
  return false;
}

const databaseUri = (uri: string, db: string) => {
  const url = new URL(uri);
  url.pathname = `/${db}`;
  return url.toString();
};

const HOUR = 3_600_000;
const START = Date.parse('2026-06-01T02:00:00Z');

let mongo: DevMongoServer;
let bot: BotHarness;
let recording = false;
const seen: Seen[] = [];

beforeAll(async () => {
  mongo = await startDevMongo({
    port: 0,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    onCommand: (cmd) => {
      if (!recording) return;
      const command = Object.keys(cmd)[0] ?? '';
      const filters = FILTER_OF[command]?.(cmd);
      if (!filters) return;
      for (const filter of filters) seen.push({ command, collection: String(cmd[command]), filter });
    },
  });
  bot = await startBotHarness({ startAt: START, mongoUri: databaseUri(mongo.uri, 'corpscoped') });
  await new RuleService(() => bot.clock.now()).create(
    { role: 'admin', corps: '*', tokenId: 'e2e' },
    ruleCreateSchema.parse({
      name: '交车次日关怀',
      scope: bot.corpId,
      enabled: true,
      trigger: { type: 'date', field: 'deliveryDate', offset: '+1d at 10:00' },
      actions: [{ type: 'follow_up', title: '交车次日回访', sla: '24h' }],
    }),
  );
}, 90_000);
afterAll(async () => {
  await bot?.stop();
  await mongo?.stop();
});

describe('per-corp queries', () => {
  it('every query of the representative flows on a per-corp collection carries corpId', async () => {
    const perCorp = new Set(
      Object.values(mongoose.models)
        .filter((m) => m.schema.path('corpId'))
        .map((m) => m.collection.collectionName),
    );
    expect(perCorp.has('customers')).toBe(true);

    recording = true;
    const { driver } = bot.sandbox;
    const added = await driver.addCustomer({
      corpId: bot.corpId,
      userid: 'zhangwei',
      customer: { name: '测试客户甲' },
      state: 'delivery_2026_05',
    });
    await driver.editRelationship({
      corpId: bot.corpId,
      userid: 'zhangwei',
      externalUserId: added.externalUserId,
      remark: '甲先生',
      addTags: ['意向'],
    });
    const other = await driver.addCustomer({ corpId: bot.corpId, userid: 'lina', customer: { name: '测试客户乙' } });
    await bot.settle('adds and edits');
    await upsertVehicle(
      {
        corpId: bot.corpId,
        timeZone: 'Asia/Shanghai',
        pd: bot.ctx.pd,
        queues: bot.ctx.queues,
        now: () => bot.clock.now(),
      },
      vehicleInputSchema.parse({
        vin: 'LVSHCAME0PE200001',
        model: '星途瑶光',
        deliveryDate: '2026-06-01',
        externalUserId: added.externalUserId,
        salesUserid: 'zhangwei',
      }),
      'api',
    );
    await bot.settle('the vehicle link and planning');
    bot.clock.set(START + 25 * HOUR);
    await runSweep({ queues: bot.ctx.queues, now: bot.clock.now() });
    await bot.settle('fired schedules and cards');
    const deps = taskDepsFor(bot.ctx, bot.corpId, bot.ctx.logger);
    if (deps) await runTaskTickExclusive(bot.ctx.redis, bot.ctx.config.redis.queuePrefix, [deps], { waitMs: 15_000 });
    await bot.settle('the tick');
    await driver.customerDeletesAdvisor({ corpId: bot.corpId, userid: 'lina', externalUserId: other.externalUserId });
    await bot.settle('the loss');
    recording = false;

    const onPerCorp = seen.filter((s) => perCorp.has(s.collection));
    expect(onPerCorp.length).toBeGreaterThan(50);
    const offending = onPerCorp.filter((s) => !namesCorp(s.filter) && !KNOWN.has(shapeOf(s)));
    const summary = [...new Set(offending.map((s) => `${shapeOf(s)}: ${JSON.stringify(s.filter).slice(0, 160)}`))];
    expect(summary).toEqual([]);
  });
});
