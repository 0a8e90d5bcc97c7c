/**
 * `npm run bench:broadcast [-- --customers N --advisors N --dealers N --variable]` (docs/engagement.md):
 * seeds 20 dealer corps with 500 advisors and 200,000 customers between them (one relationship
 * each, a few opted out and erased), plans one broadcast to every customer of every dealer with
 * all guards, and prints the planning time and the `add_msg_template` calls the send makes
 * (the plan's chunking, as `sendBroadcast` calls) against WeCom's minimum for that audience: one
 * per advisor with at least one recipient per content. `--variable`: every customer gets a vehicle
 * of one of four models (every fifth none, the renderer's fallback) and the text uses `{车型}` and
 * `{顾问}`; the minimum is then the distinct (advisor, rendered text) pairs, counted here from the
 * rendered texts, and no advisor may pass the cap of distinct messages.
 * Writes bench-results/broadcast.json (broadcast-variable.json with `--variable`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mongoose, { Types } from 'mongoose';
import { startDevMongoProcess } from '../dev-mongo/child-process.js';
import {
  callsFor,
  MAX_MESSAGES_PER_ADVISOR,
  messageCapProblem,
  planBroadcast,
} from '../../src/domain/broadcasts/broadcast-plan.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { RelationshipModel } from '../../src/domain/customers/relationship.model.js';
import { VehicleModel } from '../../src/domain/vehicles/vehicle.model.js';
import { round1 } from './stats.js';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string' },
    advisors: { type: 'string' },
    dealers: { type: 'string' },
    variable: { type: 'boolean', default: false },
  },
});
const CUSTOMERS = Number(args.customers ?? 200_000);
const ADVISORS = Number(args.advisors ?? 500);
const DEALERS = Number(args.dealers ?? 20);
const NOW = new Date('2026-05-12T02:00:00Z');
const BATCH = 20_000;
const VARIABLE = args.variable === true;
const MODELS = ['汉', '唐', '秦', '宋'];
const TEXT = VARIABLE ? '{车型}车主专享：保养节工时 8 折，{顾问}为您预约' : undefined;

/** Which of the four models (4: none) customer k has; spread over each advisor's customers. */
const variant = (k: number, advisorsPerDealer: number) => Math.floor(k / advisorsPerDealer) % 5;

async function seed(): Promise<number> {
  const t0 = performance.now();
  const perDealer = Math.ceil(CUSTOMERS / DEALERS);
  const advisorsPerDealer = Math.ceil(ADVISORS / DEALERS);
  for (let i = 0; i < CUSTOMERS; i += BATCH) {
    const customers = [];
    const rels = [];
    const vehicles = [];
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
      if (VARIABLE && variant(k, advisorsPerDealer) !== 4)
        vehicles.push({
          corpId,
          customerId: _id,
          vin: `LBENCH${String(k).padStart(11, '0')}`,
          model: MODELS[variant(k, advisorsPerDealer)],
          source: 'import',
        });
    }
    if (vehicles.length) await VehicleModel.collection.insertMany(vehicles, { ordered: false });
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
  await VehicleModel.init();
  const seedMs = await seed();
  let planMs = 0;
  let calls = 0;
  let minimum = 0;
  let recipients = 0;
  let excluded = 0;
  let maxMessages = 0;
  let refused = 0;
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
        ...(TEXT ? { text: TEXT } : {}),
      },
      { now: NOW, timeZone: 'Asia/Shanghai' },
    );
    planMs += performance.now() - t0;
    calls += callsFor(plan);
    // The minimum, counted from the rendered texts: one call per advisor per distinct text.
    const pairs = new Set(plan.advisors.flatMap((a) => a.customers.map((c) => `${a.userid}\u0000${c.text ?? ''}`)));
    minimum += pairs.size;
    for (const a of plan.advisors)
      maxMessages = Math.max(maxMessages, new Set(a.customers.map((c) => c.text ?? '')).size);
    if (messageCapProblem(plan, TEXT)) refused++;
    recipients += plan.customers;
    excluded += Object.values(plan.excluded).reduce((n, x) => n + x, 0);
  }
  const result = {
    customers: CUSTOMERS,
    advisors: ADVISORS,
    dealers: DEALERS,
    mode: VARIABLE ? `variables ${TEXT}` : 'one text',
    seedMs: round1(seedMs),
    planMs: round1(planMs),
    msPer1000Customers: round1((planMs / CUSTOMERS) * 1000),
    recipients,
    excluded,
    wecomCalls: calls,
    minimumCalls: minimum,
    equal: calls === minimum,
    maxMessagesPerAdvisor: maxMessages,
    cap: MAX_MESSAGES_PER_ADVISOR,
    dealersRefused: refused,
  };
  console.table([result]);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(`bench-results/broadcast${VARIABLE ? '-variable' : ''}.json`, `${JSON.stringify(result, null, 2)}\n`);
  if (!result.equal || refused) process.exitCode = 1;
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
  await dev?.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
