/**
 * `npm run bench:broadcast [-- --customers N --advisors N --dealers N]` (docs/engagement.md):
 * seeds 20 dealer corps with 500 advisors and 200,000 customers between them (one relationship
 * each, a few opted out and erased), plans one broadcast to every customer of every dealer with
 * all guards, and prints the planning time and the `add_msg_template` calls the send makes
 * (the plan's chunking, as `sendBroadcast` calls) against WeCom's minimum for that audience: one
 * per advisor with at least one recipient per content. Writes bench-results/broadcast.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mongoose, { Types } from 'mongoose';
import { startDevMongoProcess } from '../dev-mongo/child-process.js';
import { callsFor, planBroadcast } from '../../src/domain/broadcasts/broadcast-plan.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { RelationshipModel } from '../../src/domain/customers/relationship.model.js';
import { round1 } from './stats.js';

const { values: args } = parseArgs({
  options: { customers: { type: 'string' }, advisors: { type: 'string' }, dealers: { type: 'string' } },
});
const CUSTOMERS = Number(args.customers ?? 200_000);
const ADVISORS = Number(args.advisors ?? 500);
const DEALERS = Number(args.dealers ?? 20);
const NOW = new Date('2026-05-12T02:00:00Z');
const BATCH = 20_000;

async function seed(): Promise<number> {
  const t0 = performance.now();
  const perDealer = Math.ceil(CUSTOMERS / DEALERS);
  const advisorsPerDealer = Math.ceil(ADVISORS / DEALERS);
  for (let i = 0; i < CUSTOMERS; i += BATCH) {
    const customers = [];
    const rels = [];
    for (let k = i; k < Math.min(CUSTOMERS, i + BATCH); k++) {
      const dealer = Math.floor(k / perDealer);
      const corpId = `wwbenchbc${String(dealer).padStart(4, '0')}`;
      const userid = `adv${dealer}-${k % advisorsPerDealer}`;
      const _id = new Types.ObjectId();
      customers.push({
        _id,
        corpId,
        externalUserId: `wmbc${k}`,
        type: 1,
        responsibleUserid: userid,
        ...(k % 97 === 0 ? { optOut: { value: true, at: NOW } } : {}),
        ...(k % 211 === 0 ? { erasedAt: NOW } : {}),
      });
      rels.push({
        corpId,
        userid,
        externalUserId: `wmbc${k}`,
        customerId: _id,
        addedAt: NOW,
        status: 'active',
        tagIds: [],
        remarkMobilesEnc: [],
        remarkMobileHashes: [],
      });
    }
    await CustomerModel.collection.insertMany(customers, { ordered: false });
    await RelationshipModel.collection.insertMany(rels, { ordered: false });
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const external = process.env.MONGODB_URI;
  const dev = external ? undefined : await startDevMongoProcess({ nodeArgs: ['--max-old-space-size=8192'] });
  const dbName = `bench_broadcast_${Date.now()}`;
  await mongoose.connect(external ? external.replace(/\/?(\?|$)/, `/${dbName}$1`) : `${dev?.uri}/${dbName}`);
  await CustomerModel.init();
  await RelationshipModel.init();
  const seedMs = await seed();
  let planMs = 0;
  let calls = 0;
  let minimum = 0;
  let recipients = 0;
  let excluded = 0;
  for (let d = 0; d < DEALERS; d++) {
    const corpId = `wwbenchbc${String(d).padStart(4, '0')}`;
    const t0 = performance.now();
    const plan = await planBroadcast(
      {
        id: new Types.ObjectId().toHexString(),
        corpId,
        audience: { kind: 'segment', conditions: {} },
        holdoutPercent: 0,
        monthlyCap: 4,
      },
      { now: NOW, timeZone: 'Asia/Shanghai' },
    );
    planMs += performance.now() - t0;
    calls += callsFor(plan);
    minimum += plan.advisors.filter((a) => a.customers.length > 0).length;
    recipients += plan.customers;
    excluded += Object.values(plan.excluded).reduce((n, x) => n + x, 0);
  }
  const result = {
    customers: CUSTOMERS,
    advisors: ADVISORS,
    dealers: DEALERS,
    seedMs: round1(seedMs),
    planMs: round1(planMs),
    msPer1000Customers: round1((planMs / CUSTOMERS) * 1000),
    recipients,
    excluded,
    wecomCalls: calls,
    minimumCalls: minimum,
    equal: calls === minimum,
  };
  console.table([result]);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/broadcast.json', `${JSON.stringify(result, null, 2)}\n`);
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
  await dev?.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
