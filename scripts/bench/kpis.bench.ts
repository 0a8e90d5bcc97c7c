/**
 * `npm run bench:kpis [-- --tasks N --customers N --advisors N --runs N]` (docs/cockpit.md): seeds one
 * corp with advisors (default 500), customers (200,000, one relationship each) and follow-up
 * tasks (1,000,000) spread over a year, rolls up every day of that year (runtime per day of
 * data), then times the cockpit's main queries: the overview by advisor for a month, a quarter
 * and a year, the weekly anomalies and a drill-down task list.
 *
 * Documents examined: the dev server has no `explain`, so the bench counts what each query reads
 * (every query is one index range whose bounds are exactly its filter, so the documents it returns
 * are the documents it examines). Against a real MongoDB (MONGODB_URI) the same counts hold.
 * Writes bench-results/kpis.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mongoose, { Types } from 'mongoose';
import { startDevMongoProcess } from '../dev-mongo/child-process.js';
import { AdvisorModel } from '../../src/domain/customers/advisor.model.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { RelationshipModel } from '../../src/domain/customers/relationship.model.js';
import { addDays } from '../../src/domain/kpis/kpi-days.js';
import { ensureKpiIndexes } from '../../src/domain/kpis/kpi-indexes.js';
import { kpiOverview, weeklyAnomalies } from '../../src/domain/kpis/overview.service.js';
import { rollupRange } from '../../src/domain/kpis/rollup.service.js';
import { mulberry32 } from '../../src/domain/kpis/synthetic.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { median, percentile, round1 } from './stats.js';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string' },
    customers: { type: 'string' },
    advisors: { type: 'string' },
    runs: { type: 'string' },
  },
});
const TASKS = Number(args.tasks ?? 1_000_000);
const CUSTOMERS = Number(args.customers ?? 200_000);
const ADVISORS = Number(args.advisors ?? 500);
const RUNS = Number(args.runs ?? 15);
const CORP = 'wwbenchkpis0001';
const TZ = 'Asia/Shanghai';
const FROM = '2025-06-01';
const TO = '2026-06-01';
const NOW = new Date('2026-06-01T04:00:00Z');
const YEAR_MS = Date.parse(`${TO}T00:00:00+08:00`) - Date.parse(`${FROM}T00:00:00+08:00`);
const START_MS = Date.parse(`${FROM}T00:00:00+08:00`);
const BATCH = 20_000;
const H = 3_600_000;

// A 32-bit PRNG (a float LCG loses precision beyond 2^53 and cycles through a handful of values).
const rand = mulberry32(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const advisorIds = Array.from({ length: ADVISORS }, (_, i) => `adv${String(i).padStart(4, '0')}`);

async function inBatches(
  total: number,
  make: (i: number) => Record<string, unknown>,
  insert: (docs: Record<string, unknown>[]) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < total; i += BATCH)
    await insert(Array.from({ length: Math.min(BATCH, total - i) }, (_, k) => make(i + k)));
}

async function seedData(): Promise<{ ms: number; customerIds: Types.ObjectId[] }> {
  const t0 = performance.now();
  await AdvisorModel.insertMany(
    advisorIds.map((userid, i) => ({
      corpId: CORP,
      userid,
      name: `顾问${i}`,
      departments: [1 + (i % 10)],
      leadsDepartments: i < 10 ? [1 + i] : [],
    })),
  );
  const customerIds = Array.from({ length: CUSTOMERS }, () => new Types.ObjectId());
  await inBatches(
    CUSTOMERS,
    (i) => {
      const owner = rand() < 0.15;
      const at = new Date(START_MS + rand() * YEAR_MS);
      return {
        _id: customerIds[i],
        corpId: CORP,
        externalUserId: `wmbench${i}`,
        responsibleUserid: pick(advisorIds),
        ...(owner
          ? {
              lifecycle: { stage: 'owner', reason: 'vehicle_linked', changedAt: at },
              lifecycleHistory: [{ stage: 'owner', reason: 'vehicle_linked', at }],
            }
          : {}),
      };
    },
    (docs) => CustomerModel.collection.insertMany(docs, { ordered: false }),
  );
  await inBatches(
    CUSTOMERS,
    (i) => {
      const addedAt = new Date(START_MS + rand() * YEAR_MS);
      const lost = rand() < 0.05;
      return {
        corpId: CORP,
        userid: pick(advisorIds),
        externalUserId: `wmbench${i}`,
        customerId: customerIds[i],
        addedAt,
        state: pick(['showroom', 'delivery', 'douyin']),
        status: lost ? 'deleted_by_customer' : 'active',
        ...(lost ? { statusChangedAt: new Date(addedAt.getTime() + rand() * 60 * 86_400_000) } : {}),
        tagIds: [],
        remarkMobilesEnc: [],
        remarkMobileHashes: [],
      };
    },
    (docs) => RelationshipModel.collection.insertMany(docs, { ordered: false }),
  );
  await inBatches(
    TASKS,
    () => {
      const dueAt = new Date(START_MS + rand() * YEAR_MS);
      const r = rand();
      const status =
        dueAt.getTime() > NOW.getTime() - 24 * H
          ? 'open'
          : r < 0.8
            ? 'done'
            : r < 0.88
              ? 'unreachable'
              : r < 0.95
                ? 'open'
                : 'cancelled';
      const completedAt =
        status === 'done' || status === 'unreachable' ? new Date(dueAt.getTime() + rand() * 40 * H) : undefined;
      return {
        corpId: CORP,
        customerId: pick(customerIds),
        advisorUserid: pick(advisorIds),
        title: '回访',
        category: pick(['delivery_care', 'maintenance', 'insurance', 'other']),
        dueAt,
        slaMs: 24 * H,
        remindAt: dueAt,
        status,
        escalationLevel: status === 'open' ? 2 : 0,
        history: [{ at: dueAt, actor: 'system', action: 'created' }],
        ...(completedAt
          ? {
              completedAt,
              outcome: status === 'done' ? pick(['contacted', 'appointment_booked', 'customer_declined']) : undefined,
            }
          : {}),
      };
    },
    (docs) => TaskModel.collection.insertMany(docs, { ordered: false }),
  );
  return { ms: performance.now() - t0, customerIds };
}

async function timed<T>(runs: number, fn: () => Promise<T>): Promise<{ last: T; ms: number[] }> {
  const ms: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = await fn();
    ms.push(performance.now() - t0);
  }
  return { last: last as T, ms };
}

async function main(): Promise<void> {
  const external = process.env.MONGODB_URI;
  // The dev server in its own process (as MongoDB would be), with room for a year of data.
  const dev = external ? undefined : await startDevMongoProcess({ nodeArgs: ['--max-old-space-size=12288'] });
  const dbName = `bench_kpis_${Date.now()}`;
  await mongoose.connect(external ? external.replace(/\/?(\?|$)/, `/${dbName}$1`) : `${dev?.uri}/${dbName}`);
  await Promise.all(Object.values(mongoose.models).map((m) => m.syncIndexes()));
  await ensureKpiIndexes();
  console.log(
    `seeding ${ADVISORS} advisors, ${CUSTOMERS} customers, ${TASKS} tasks over ${FROM} → ${TO} (${external ? 'MONGODB_URI' : 'dev server'}) ...`,
  );
  const seeded = await seedData();
  console.log(`seeded in ${(seeded.ms / 1000).toFixed(1)} s`);

  const perDay: number[] = [];
  const tasksPerDay: number[] = [];
  await rollupRange({ corpId: CORP, timeZone: TZ, now: NOW, from: FROM, to: TO }, (r, ms) => {
    perDay.push(ms);
    tasksPerDay.push(r.docsRead.tasks);
  });
  const rollupDocs = await mongoose.connection.collection('kpi_daily').countDocuments({ corpId: CORP });
  console.log(`rolled up ${perDay.length} days: ${rollupDocs} kpi_daily documents`);

  const rows: Array<{ query: string; docsExamined: number; how: string; medianMs: number; p95Ms: number }> = [];
  const add = (query: string, docs: number, how: string, ms: number[]) =>
    rows.push({ query, docsExamined: docs, how, medianMs: round1(median(ms)), p95Ms: round1(percentile(ms, 95)) });
  rows.push({
    query: 'rollup of one day (all sources)',
    docsExamined: Math.round(median(tasksPerDay)),
    how: "tasks read per day (median); + that day's customers, relationships, executions, messages",
    medianMs: round1(median(perDay)),
    p95Ms: round1(percentile(perDay, 95)),
  });
  const periodDocs = await mongoose.connection.collection('kpi_periods').countDocuments({ corpId: CORP });
  console.log(`${periodDocs} kpi_periods documents (weeks and months)`);
  // The cockpit's default view is the last 8 weeks by week; the others are the picker's choices.
  const views = [
    ['8 weeks by week (the default view)', addDays(TO, -56), 'week', 'kpi_periods (advisors × weeks)'],
    ['30 days by day', addDays(TO, -30), 'day', 'kpi_daily (advisors × days)'],
    ['a quarter by week', addDays(TO, -91), 'week', 'kpi_periods (advisors × weeks) + kpi_daily at the edges'],
    ['a year by month', FROM, 'month', 'kpi_periods (advisors × months)'],
  ] as const;
  for (const [label, from, granularity, how] of views) {
    const r = await timed(RUNS, () => kpiOverview({ corpIds: [CORP], from, to: TO, granularity, groupBy: 'advisor' }));
    add(`overview by advisor, ${label}`, r.last.docsRead, `rollup docs read: ${how}`, r.ms);
  }
  const week = '2026-05-25';
  const an = await timed(RUNS, () => weeklyAnomalies({ corpIds: [CORP], week }));
  add(
    'anomalies for one week (9 weeks of history)',
    an.last.docsRead,
    'rollup docs read: kpi_periods (advisors × 9 weeks)',
    an.ms,
  );
  const drill = await timed(RUNS, () =>
    TaskModel.find(
      {
        corpId: CORP,
        advisorUserid: advisorIds[7],
        status: 'open',
        dueAt: { $gte: new Date(`${week}T00:00:00+08:00`), $lt: new Date(`${addDays(week, 7)}T00:00:00+08:00`) },
      },
      { history: 0 },
    )
      .sort({ dueAt: 1 })
      .limit(200)
      .lean(),
  );
  add(
    "drill-down: one advisor's open tasks of a week",
    drill.last.length,
    'tasks returned by the {corpId, advisorUserid, status, dueAt} range',
    drill.ms,
  );

  console.table(rows);
  const result = {
    tasks: TASKS,
    customers: CUSTOMERS,
    advisors: ADVISORS,
    runs: RUNS,
    target: external ? 'MONGODB_URI' : 'dev-mongo',
    seedMs: Math.round(seeded.ms),
    rollup: {
      days: perDay.length,
      medianMs: round1(median(perDay)),
      p95Ms: round1(percentile(perDay, 95)),
      totalMs: Math.round(perDay.reduce((a, b) => a + b, 0)),
      kpiDailyDocs: rollupDocs,
      kpiPeriodDocs: periodDocs,
    },
    rows,
  };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/kpis.json', `${JSON.stringify(result, null, 2)}\n`);
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
  await dev?.stop();
}

main().catch((err: unknown) => {
  console.error(`bench:kpis failed: ${(err as Error).message}`);
  process.exit(1);
});
