/**
 * `npm run bench:outcomes`: (1) ingest of BENCH_OUTCOMES (100,000) repair orders through the path
 * the API and the webhook share (validation, versioned upsert, matching, anchors, attribution;
 * batches of 1,000, in process), compared with a plain mongoose insertMany of the same documents on
 * the same server, batch for batch alternately (target ≥ 0.5 of it); (2) recomputing attribution and the result KPIs of one
 * dealer-year: BENCH_OWNERS (5,000) owners, BENCH_ROS (20,000) repair orders, BENCH_TOUCHES
 * (50,000) touches (target < 10 s). The dev MongoDB server runs in a process of its own, as a
 * MongoDB server would (its work and its garbage beside the client's, not on the client's event
 * loop), with a private Redis. Prints a table and
 * writes bench-results/outcomes.json. A benchmark, not a test (docs/architecture.md §13.12).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import mongoose, { Types } from 'mongoose';
import { Redis } from 'ioredis';
import { loadConfig } from '../../config/index.js';
import { CorpModel } from '../../src/domain/corps/corp.model.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { PersonalData } from '../../src/domain/customers/personal-data.js';
import { recomputeAttributions } from '../../src/domain/outcomes/attribution.service.js';
import { AttributionModel } from '../../src/domain/outcomes/attribution.model.js';
import { ingestOutcomeItems } from '../../src/domain/outcomes/outcome-batch.js';
import { outcomeKpis } from '../../src/domain/outcomes/outcome-kpis.js';
import { OutcomeModel } from '../../src/domain/outcomes/outcome.model.js';
import { corpSecretContext } from '../../src/domain/privacy/key-rotation.service.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { VehicleModel } from '../../src/domain/vehicles/vehicle.model.js';
import { Queues } from '../../src/queues/queue-factory.js';
import { startPrivateRedis } from '../../src/testing/redis-server.js';
import { startDevMongoProcess } from '../dev-mongo/child-process.js';

const N = Number(process.env.BENCH_OUTCOMES ?? 100_000);
const OWNERS = Number(process.env.BENCH_OWNERS ?? 5_000);
const ROS = Number(process.env.BENCH_ROS ?? 20_000);
const TOUCHES = Number(process.env.BENCH_TOUCHES ?? 50_000);
const CORP = 'wwbenchdealer00001';
const YEAR_START = Date.parse('2025-01-01T00:00:00Z');
const DAY = 86_400_000;
const vin = (i: number) => `LBENCH${String(i).padStart(11, '0')}`;

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const [redisServer, mongo] = await Promise.all([startPrivateRedis(), startDevMongoProcess()]);
  const config = loadConfig({
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    REDIS_URL: redisServer.url,
    MONGODB_URI: `${mongo.uri}/bench`,
    QUEUE_PREFIX: 'bench',
    DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOOKUP_HMAC_KEY: randomBytes(32).toString('base64'),
    ENV_FILE: '/nonexistent',
  });
  const pd = PersonalData.fromConfig(config);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const queues = new Queues(redis, 'bench');
  await mongoose.connect(config.mongo.uri, { monitorCommands: true });
  // Every command the client sends, by name, so each phase reports its round trips.
  const commands = new Map<string, number>();
  mongoose.connection.getClient().on('commandStarted', (e: { commandName: string }) => {
    commands.set(e.commandName, (commands.get(e.commandName) ?? 0) + 1);
  });
  const commandMs = new Map<string, number>();
  const pending = new Map<number, string>();
  const client = mongoose.connection.getClient();
  client.on('commandStarted', (e: { requestId: number; commandName: string; command: Record<string, unknown> }) => {
    const coll = e.command[e.commandName];
    pending.set(e.requestId, `${e.commandName} ${typeof coll === 'string' ? coll : ''}`);
  });
  client.on('commandSucceeded', (e: { requestId: number; duration: number }) => {
    const k = pending.get(e.requestId) ?? '?';
    pending.delete(e.requestId);
    commandMs.set(k, (commandMs.get(k) ?? 0) + e.duration);
  });
  const countCommands = () => {
    if (process.env.BENCH_COMMAND_MS) console.log(Object.fromEntries(commandMs));
    commandMs.clear();
    const snapshot = Object.fromEntries(commands);
    commands.clear();
    return snapshot;
  };
  await Promise.all(
    [CorpModel, CustomerModel, VehicleModel, OutcomeModel, AttributionModel, TaskModel].map((m) => m.init()),
  );
  await CorpModel.create({
    corpId: CORP,
    kind: 'dealer',
    displayName: 'bench',
    agentId: 1,
    secretSealed: pd.cipher.encrypt('x', corpSecretContext(CORP, 'secretSealed')),
    callbackTokenSealed: pd.cipher.encrypt('x', corpSecretContext(CORP, 'callbackTokenSealed')),
    callbackAesKeySealed: pd.cipher.encrypt('x', corpSecretContext(CORP, 'callbackAesKeySealed')),
    timezone: 'Asia/Shanghai',
  });

  // Owners: customers with linked vehicles (the dealer-year population).
  const customers = await CustomerModel.insertMany(
    Array.from({ length: OWNERS }, (_, i) => ({
      corpId: CORP,
      externalUserId: `wmBench${String(i).padStart(10, '0')}`,
    })),
  );
  await VehicleModel.insertMany(
    customers.map((c, i) => ({
      corpId: CORP,
      vin: vin(i),
      customerId: c._id,
      source: 'import',
      deliveryDate: new Date(YEAR_START - (i % 700) * DAY),
    })),
  );

  // (1) ingest vs insertMany, on the same items.
  const items = Array.from({ length: N }, (_, i) => ({
    externalId: `RO-${i}`,
    version: 1,
    type: 'repair_order',
    occurredAt: new Date(YEAR_START + (i % 365) * DAY).toISOString(),
    vin: vin(i % OWNERS),
    roType: i % 3 ? 'repair' : 'maintenance',
    labourAmount: 100 + (i % 400),
    partsAmount: 50,
    mileageKm: 1000 + i,
  }));
  const deps = { corpId: CORP, timeZone: 'Asia/Shanghai', pd, queues, now: () => new Date() };
  const plainDocs = items.map((it) => ({
    ...it,
    corpId: CORP,
    source: 'plain',
    orderKey: '1',
    status: 'active',
    occurredAt: new Date(it.occurredAt),
    matchedBy: 'vin',
    revenue: it.labourAmount + it.partsAmount,
    receivedVia: 'api',
    receivedAt: new Date(),
  }));
  // Batch for batch, alternately: the ingest of 1,000 items, then the plain insertMany of the same
  // 1,000 documents (source `plain`, so they never meet the ingest's keys). Both see the same load
  // of the shared machine, so their ratio holds even when other work comes and goes.
  countCommands();
  let ingestNs = 0n;
  let plainNs = 0n;
  let matched = 0;
  for (let i = 0; i < N; i += 1000) {
    let t0 = process.hrtime.bigint();
    const answer = await ingestOutcomeItems(
      deps,
      items.slice(i, i + 1000).map((raw) => ({ pointer: '', raw })),
      'api',
    );
    ingestNs += process.hrtime.bigint() - t0;
    matched += answer.results.filter((r) => r.status !== 'rejected' && r.matchedBy !== 'none').length;
    t0 = process.hrtime.bigint();
    await OutcomeModel.insertMany(plainDocs.slice(i, i + 1000), { ordered: false });
    plainNs += process.hrtime.bigint() - t0;
  }
  const ingestS = Number(ingestNs) / 1e9;
  const plainS = Number(plainNs) / 1e9;
  const ingestCommands = countCommands();
  const attributed = await AttributionModel.countDocuments({ corpId: CORP });
  await OutcomeModel.deleteMany({ corpId: CORP });
  await AttributionModel.deleteMany({ corpId: CORP });
  // Let the 2 × N generated documents go before timing the dealer-year (a large live heap slows every GC).
  items.length = 0;
  plainDocs.length = 0;

  // (2) a dealer-year: ROS repair orders and TOUCHES completed tasks over OWNERS owners.
  const ladder = { escalateAfterMs: 1, flagAfterMs: 2 };
  for (let i = 0; i < TOUCHES; i += 5000) {
    await TaskModel.insertMany(
      Array.from({ length: Math.min(5000, TOUCHES - i) }, (_, k) => {
        const j = i + k;
        const at = new Date(YEAR_START + (j % 365) * DAY);
        return {
          corpId: CORP,
          customerId: customers[j % OWNERS]?._id as Types.ObjectId,
          advisorUserid: `adv${j % 20}`,
          title: 't',
          dueAt: at,
          slaMs: 1,
          ladder,
          remindAt: at,
          status: 'done',
          outcome: j % 4 ? 'contacted' : 'appointment_booked',
          completedAt: at,
          category: 'maintenance',
          ruleId: new Types.ObjectId('0000000000000000000000a' + (j % 5)),
        };
      }),
    );
  }
  for (let i = 0; i < ROS; i += 5000) {
    await OutcomeModel.insertMany(
      Array.from({ length: Math.min(5000, ROS - i) }, (_, k) => {
        const j = i + k;
        return {
          corpId: CORP,
          source: 'dms',
          externalId: `Y-${j}`,
          version: 1,
          orderKey: '1',
          type: 'repair_order',
          roType: 'maintenance',
          status: 'active',
          occurredAt: new Date(YEAR_START + ((j * 7) % 365) * DAY + 3600_000),
          vin: vin(j % OWNERS),
          customerId: customers[j % OWNERS]?._id,
          matchedBy: 'vin',
          revenue: 500,
          receivedVia: 'import',
          receivedAt: new Date(),
        };
      }),
    );
  }
  countCommands();
  const started = process.hrtime.bigint();
  const recomputed = await recomputeAttributions(
    { corpId: CORP, now: () => new Date() },
    new Date(YEAR_START),
    new Date(YEAR_START + 366 * DAY),
  );
  const recomputeS = Number(process.hrtime.bigint() - started) / 1e9;
  const recomputeCommands = countCommands();
  const kpis = await outcomeKpis(CORP, new Date(YEAR_START), new Date(YEAR_START + 365 * DAY));
  const yearS = Number(process.hrtime.bigint() - started) / 1e9;
  const kpiCommands = countCommands();
  const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

  const ingestRate = Math.round(N / ingestS);
  const plainRate = Math.round(N / plainS);
  const rows = [
    {
      measure: `ingest ${N} outcomes (API/webhook path)`,
      seconds: +ingestS.toFixed(1),
      perSecond: ingestRate,
      note: `matched ${matched}, attributed ${attributed}; ${(total(ingestCommands) / Math.ceil(N / 1000) - 1).toFixed(1)} commands per batch`,
    },
    { measure: `plain insertMany ${N}`, seconds: +plainS.toFixed(1), perSecond: plainRate, note: '' },
    {
      measure: 'ingest / insertMany (target ≥ 0.5)',
      seconds: 0,
      perSecond: +(ingestRate / plainRate).toFixed(3),
      note: ingestRate / plainRate >= 0.5 ? 'met' : 'MISSED',
    },
    {
      measure: `dealer-year recompute (${OWNERS} owners, ${ROS} ROs, ${TOUCHES} touches) + KPIs`,
      seconds: +yearS.toFixed(1),
      perSecond: Math.round(recomputed / yearS),
      note: `${yearS < 10 ? 'met' : 'MISSED'} (target < 10 s); recompute ${recomputeS.toFixed(1)} s, KPIs ${(yearS - recomputeS).toFixed(1)} s; commands ${total(recomputeCommands)} + ${total(kpiCommands)}; return rate ${kpis.returnRate}`,
    },
  ];
  console.table(rows);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`load average (1, 5, 15 min): at the start ${load(loadAtStart)}, at the end ${load(loadavg())}`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    'bench-results/outcomes.json',
    JSON.stringify(
      {
        N,
        OWNERS,
        ROS,
        TOUCHES,
        loadAverage: { start: loadAtStart, end: loadavg() },
        rows,
        commands: { ingest: ingestCommands, recompute: recomputeCommands, kpis: kpiCommands },
      },
      null,
      2,
    ),
  );
  await queues.close();
  redis.disconnect();
  await mongoose.disconnect();
  await Promise.all([redisServer.stop(), mongo.stop()]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
