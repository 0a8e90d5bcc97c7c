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
 * bytes are the BSON size of the documents per collection. Flags: `--n 300` adds, `--rate 20`
 * adds per second. Writes bench-results/worker.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { calculateObjectSize } from 'bson';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { waitFor } from '../../src/testing/wait.js';
import { BotStack, startBackends, type Role } from '../faults/bot-stack.js';
import { Ledger } from '../faults/ledger.js';

const TICKS_PER_S = 100; // USER_HZ on Linux

function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) state".
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { n: { type: 'string', default: '300' }, rate: { type: 'string', default: '20' } },
  });
  const n = Number(values.n);
  const perSecond = Number(values.rate);
  const backends = await startBackends();
  const stack = await BotStack.create(backends, 'benchworker');
  const redis = new Redis(backends.redis.url);
  const roles: Role[] = ['web', 'worker', 'welcome'];
  const pids = () =>
    Object.fromEntries(roles.map((r) => [r, stack.procs.get(r)?.child.pid])) as Record<Role, number | undefined>;
  try {
    await stack.startAll();
    // Warm-up: JIT, connections, token cache, tag groups.
    const warm = new Ledger(backends.sandbox, 'warm');
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
    const before = Object.fromEntries(roles.map((r) => [r, cpuMs(pids()[r])]));
    const started = Date.now();
    const ledger = new Ledger(backends.sandbox, 'bench');
    await ledger.play(n, perSecond, 'before');
    await ledger.delivered();
    await waitFor(async () => (await stack.pendingJobs()) === 0, 'every add processed', {
      timeoutMs: 600_000,
      intervalMs: 250,
    });
    const elapsed = Date.now() - started;
    const after = Object.fromEntries(roles.map((r) => [r, cpuMs(pids()[r])]));
    const redisAfter = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const result = await ledger.check(stack);
    await ledger.close();

    const perAdd = (r: Role) => Math.max(0, (after[r] ?? 0) - (before[r] ?? 0) - (idlePerMs[r] ?? 0) * elapsed) / n;
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
      sizes[name] = { docs: docs.length, bytes: docs.reduce((sum, d) => sum + calculateObjectSize(d), 0) };
    }
    await conn.close();
    const total = n + 20;
    const rows = {
      adds: n,
      acknowledged: result.acked,
      lost: result.lost,
      duplicated: result.duplicated,
      seconds: Math.round(elapsed / 100) / 10,
      'web CPU ms/add': perAdd('web').toFixed(2),
      'worker CPU ms/add': perAdd('worker').toFixed(2),
      'welcome worker CPU ms/welcome': perAdd('welcome').toFixed(2),
      'Redis bytes/add (1 day of completed jobs)': Math.round((redisAfter - redisBefore) / n),
    };
    console.log(
      `\nbench:worker: ${n} delivery-channel adds at ${perSecond}/s (web, worker and welcome worker as child processes)`,
    );
    console.table([rows]);
    const mongoRows = Object.entries(sizes).map(([collection, s]) => ({
      collection,
      documents: s.docs,
      'bytes/document': s.docs ? Math.round(s.bytes / s.docs) : 0,
      'bytes/add': Math.round(s.bytes / total),
    }));
    console.log('MongoDB, BSON bytes of the documents (no indexes), after', total, 'adds');
    console.table(mongoRows);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      'bench-results/worker.json',
      JSON.stringify({ at: new Date().toISOString(), n, perSecond, rows, mongo: mongoRows }, null, 2),
    );
  } finally {
    redis.disconnect();
    // A profiled process writes its profile on a clean exit only (SIGKILL would lose it).
    if (process.env.BENCH_CPU_PROF_DIR) for (const role of roles) await stack.terminate(role);
    await stack.stop();
    await backends.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
