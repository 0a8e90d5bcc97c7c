/**
 * `npm run bench:worker`: what one add event costs the worker processes and the stores
 * (docs/scale.md §4, the capacity model).
 *
 * The web, the worker (every queue but the welcome lane) and the welcome worker run as real child
 * processes (the fault suite's BotStack) on a private redis-server, the dev MongoDB server in a
 * process of its own and the WeCom sandbox. Delivery-channel adds are played (each: customer,
 * welcome, tag 保客, a follow-up schedule, domain events); the CPU time each process used
 * (/proc/<pid>/stat, minus its idle rate measured just before) is divided by the adds. Redis
 * bytes are `used_memory` before and after (jobs kept a day after completion included); MongoDB
 * bytes are the BSON size of the documents per collection. The MongoDB commands each process sends
 * are counted by a preloaded module (mongo-command-counter.ts). Flags: `--n 300` adds, `--rate 20`
 * adds per second; `--baseline <git ref>` first runs the same measurement with the processes of
 * that commit (extracted with `git archive` into a temporary directory that shares node_modules),
 * so before and after come from one run on the same machine; `--rounds 2` alternates the two that
 * many times. Writes bench-results/worker.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { calculateObjectSize } from 'bson';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { waitFor } from '../../src/testing/wait.js';
import { BotStack, startBackends, type Backends, type Role } from '../faults/bot-stack.js';
import { Ledger } from '../faults/ledger.js';
import { demoScenario } from '../wecom-sandbox/world/demo-seed.js';
import { checkoutBaseline, cpuMsOf, readCommandCounts } from './baseline.js';

const cpuMs = cpuMsOf;

interface PassResult {
  rows: Record<string, string | number>;
  mongo: Array<Record<string, string | number>>;
  /** MongoDB commands per add by process, and by "collection command" for the worker. */
  commands: Record<Role, number>;
  workerCommands: Record<string, number>;
}

const readCounts = readCommandCounts;
const readAll = async (roles: Role[], pids: Record<Role, number | undefined>, file: (r: Role) => string) =>
  Object.fromEntries(await Promise.all(roles.map(async (r) => [r, await readCounts(pids[r], file(r))] as const)));
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

const checkout = (ref: string) => checkoutBaseline(ref);

/**
 * The corp's directory as the directory sync stores it (docs/architecture.md §4): a bot in
 * production has synced its members before their adds arrive, so the adding advisor is found.
 * Written before the processes start (they hold no copy yet).
 */
async function seedDirectory(mongoUri: string): Promise<void> {
  const conn = await mongoose.createConnection(mongoUri).asPromise();
  try {
    const now = new Date();
    for (const corp of demoScenario().corps)
      for (const m of corp.members ?? [])
        await conn.collection('advisors').updateOne(
          { corpId: corp.corpId, userid: m.userid },
          {
            $set: {
              name: m.name,
              departments: m.department ?? [],
              leadsDepartments: (m.department ?? []).filter((_, i) => m.isLeaderInDept?.[i] === 1),
              directLeaders: m.directLeader ?? [],
              status: 'active',
              needsTransfer: false,
              syncedAt: now,
              updatedAt: now,
            },
            $setOnInsert: { createdAt: now },
          },
          { upsert: true },
        );
  } finally {
    await conn.close();
  }
}

async function runPass(
  backends: Backends,
  label: string,
  n: number,
  perSecond: number,
  dir: string | undefined,
): Promise<PassResult> {
  const countDir = mkdtempSync(join(tmpdir(), 'scrm-bench-commands-'));
  const stack = await BotStack.create(
    backends,
    `benchworker${label}`,
    {},
    { dir, preload: [resolve('scripts/bench/mongo-command-counter.ts')] },
  );
  await seedDirectory(stack.config.mongo.uri);
  const redis = new Redis(backends.redis.url);
  const roles: Role[] = ['web', 'worker', 'welcome'];
  const pids = () =>
    Object.fromEntries(roles.map((r) => [r, stack.procs.get(r)?.child.pid])) as Record<Role, number | undefined>;
  const countFile = (r: Role) => join(countDir, `${r}.json`);
  try {
    await Promise.all(roles.map((r) => stack.start(r, { BENCH_MONGO_COMMANDS_FILE: countFile(r) })));
    // Warm-up: JIT, connections, token cache, tag groups.
    const warm = new Ledger(backends.sandbox, `warm${label}`);
    await warm.play(20, perSecond, 'before');
    await warm.delivered();
    await waitFor(async () => (await stack.pendingJobs()) === 0, 'warm-up processed', {
      timeoutMs: 120_000,
      intervalMs: 250,
    });
    await warm.close();

    // Idle rate of each process (timers, BullMQ polling, metrics), subtracted below.
    const idleStart = Object.fromEntries(roles.map((r) => [r, cpuMs(pids()[r])]));
    const idleMs = 5000;
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const idlePerMs = Object.fromEntries(roles.map((r) => [r, (cpuMs(pids()[r]) - (idleStart[r] ?? 0)) / idleMs]));

    const redisBefore = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const countsBefore = await readAll(roles, pids(), countFile);
    const before = Object.fromEntries(roles.map((r) => [r, cpuMs(pids()[r])]));
    const started = Date.now();
    const ledger = new Ledger(backends.sandbox, `bench${label}`);
    await ledger.play(n, perSecond, 'before');
    await ledger.delivered();
    await waitFor(async () => (await stack.pendingJobs()) === 0, 'every add processed', {
      timeoutMs: 600_000,
      intervalMs: 250,
    });
    const elapsed = Date.now() - started;
    const after = Object.fromEntries(roles.map((r) => [r, cpuMs(pids()[r])]));
    const redisAfter = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const countsAfter = await readAll(roles, pids(), countFile);
    const result = await ledger.check(stack);
    await ledger.close();

    const perAdd = (r: Role) => Math.max(0, (after[r] ?? 0) - (before[r] ?? 0) - (idlePerMs[r] ?? 0) * elapsed) / n;
    const delta = (r: Role) => {
      const out: Record<string, number> = {};
      for (const [key, value] of Object.entries(countsAfter[r] ?? {})) {
        const d = value - (countsBefore[r]?.[key] ?? 0);
        if (d > 0) out[key] = d / n;
      }
      return out;
    };
    const conn = await mongoose.createConnection(stack.config.mongo.uri).asPromise();
    const sizes: Record<string, { docs: number; bytes: number }> = {};
    for (const name of [
      'customers',
      'relationships',
      'domain_events',
      'inbound_events',
      'outbox_events',
      'schedules',
      'tasks',
      'rule_executions',
    ]) {
      const docs = await conn.collection(name).find({}).toArray();
      sizes[name] = { docs: docs.length, bytes: docs.reduce((total, d) => total + calculateObjectSize(d), 0) };
    }
    await conn.close();
    const total = n + 20;
    const commands = Object.fromEntries(roles.map((r) => [r, sum(delta(r))])) as Record<Role, number>;
    return {
      rows: {
        code: label,
        adds: n,
        acknowledged: result.acked,
        lost: result.lost,
        duplicated: result.duplicated,
        seconds: Math.round(elapsed / 100) / 10,
        'web CPU ms/add': perAdd('web').toFixed(2),
        'worker CPU ms/add': perAdd('worker').toFixed(2),
        'welcome worker CPU ms/welcome': perAdd('welcome').toFixed(2),
        'worker Mongo commands/add': commands.worker.toFixed(1),
        'welcome Mongo commands/welcome': commands.welcome.toFixed(1),
        'Redis bytes/add (1 day of completed jobs)': Math.round((redisAfter - redisBefore) / n),
      },
      mongo: Object.entries(sizes).map(([collection, s]) => ({
        collection,
        documents: s.docs,
        'bytes/document': s.docs ? Math.round(s.bytes / s.docs) : 0,
        'bytes/add': Math.round(s.bytes / total),
      })),
      commands,
      workerCommands: delta('worker'),
    };
  } finally {
    redis.disconnect();
    // A profiled process writes its profile on a clean exit only (SIGKILL would lose it).
    if (process.env.BENCH_CPU_PROF_DIR) for (const role of roles) await stack.terminate(role);
    await stack.stop();
    rmSync(countDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '300' },
      rate: { type: 'string', default: '20' },
      baseline: { type: 'string' },
      rounds: { type: 'string', default: '1' },
    },
  });
  const n = Number(values.n);
  const perSecond = Number(values.rate);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(n) || n < 1 || !(perSecond > 0) || !Number.isInteger(rounds) || rounds < 1) {
    console.error('usage: npm run bench:worker -- [--n 300] [--rate 20] [--baseline <git ref>] [--rounds 1]');
    process.exit(2);
  }
  const baselineDir = values.baseline ? checkout(values.baseline) : undefined;
  const backends = await startBackends();
  const passes: PassResult[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      if (baselineDir) passes.push(await runPass(backends, `base${round}`, n, perSecond, baselineDir));
      passes.push(await runPass(backends, `now${round}`, n, perSecond, undefined));
    }
  } finally {
    await backends.stop();
    if (baselineDir) rmSync(baselineDir, { recursive: true, force: true });
  }
  console.log(
    `\nbench:worker: ${n} delivery-channel adds at ${perSecond}/s (web, worker and welcome worker as child processes)` +
      (values.baseline ? `; "base" = ${values.baseline}, "now" = this tree` : ''),
  );
  console.table(passes.map((p) => p.rows));
  const keys = [...new Set(passes.flatMap((p) => Object.keys(p.workerCommands)))].sort(
    (a, b) => (passes[0]?.workerCommands[b] ?? 0) - (passes[0]?.workerCommands[a] ?? 0),
  );
  console.log('Worker MongoDB commands per add, by collection and command');
  console.table(
    keys.map((key) => ({
      command: key,
      ...Object.fromEntries(passes.map((p) => [p.rows.code, (p.workerCommands[key] ?? 0).toFixed(2)])),
    })),
  );
  const last = passes[passes.length - 1];
  console.log('MongoDB, BSON bytes of the documents (no indexes), after', n + 20, 'adds (last pass)');
  console.table(last?.mongo);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    'bench-results/worker.json',
    JSON.stringify({ at: new Date().toISOString(), n, perSecond, baseline: values.baseline, passes }, null, 2),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
