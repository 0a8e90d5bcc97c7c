/**
 * `npm run bench:peak` (docs/scale.md §4, "The 10:00 peak, measured"): the morning peak of a
 * dealer network. 200 dealer corps (25 advisors each) in the WeCom sandbox, 500,000 customers and
 * 100,000 follow-up schedules due at 10:00 local in the bot's database, a private Redis Cluster
 * (three masters), the dev MongoDB server in a process of its own; then the due → card phase runs
 * once with one, two and three worker processes (the fault suite's BotStack, real child
 * processes consuming `scheduled` and `maintenance`, REDIS_MODE=cluster). Each phase gets a fresh
 * due set on a new day: the schedules are re-armed for 10:00 of that day and the bot's shared
 * clock is put 90 s before it, so the minute sweep, the follow-up jobs, the debounced card
 * delivery and the minute task tick run as in production. The sandbox enforces WeCom's per-app
 * limits (per-corp per-API window, 30 a minute and 1,000 an hour per member, the daily quota).
 *
 * Per phase: due → advisor told (card or digest) p50/p99/max, the tasks told within 10 minutes,
 * cards/s, `message/send` calls, WeCom limits hit (target 0), worker and MongoDB CPU.
 *
 * Flags (or env): `--scale 0.05` (BENCH_PEAK_SCALE; default 1 = the full size), `--workers 1,2,3`
 * (BENCH_PEAK_WORKERS), `--replicas 0` replicas per master (default 0: the bench measures the
 * workers, and replication would take CPU from them on a 2-core machine), `--phase-timeout-s
 * 1800`, `--until 2026-12-06T23:35:00Z` (no phase waits past it: a slot on a shared machine).
 * Writes bench-results/peak.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { dayjs, setSharedClockOffset, SharedOffsetClock } from '../../src/infra/clock.js';
import { DataCipher } from '../../src/infra/data-crypto.js';
import { createLogger } from '../../src/infra/logger.js';
import { createRedis } from '../../src/infra/redis.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { freePort } from '../../src/testing/ports.js';
import { startPrivateRedisCluster } from '../../src/testing/redis-cluster.js';
import type { PrivateRedis } from '../../src/testing/redis-server.js';
import { startDevMongoProcess } from '../dev-mongo/child-process.js';
import { BotStack, type Backends } from '../faults/bot-stack.js';
import { startSandbox } from '../wecom-sandbox/index.js';
import { demoScenario } from '../wecom-sandbox/world/demo-seed.js';
import { peakFloor } from './peak-floor.js';
import { countsSince, startWireCounter } from './peak-wire.js';
import { notifiedDelays, peakSandboxCorps, peakSizes, rearmPeak, seedPeakMongo } from './peak-seed.js';
import { percentile, round1 } from './stats.js';

const NAME = 'peak';
const ZONE = 'Asia/Shanghai';
/** The bot's clock starts this long before 10:00: the sweep looks 60 s ahead, so one run falls before it. */
const LEAD_MS = 90_000;
const TEN_MINUTES_MS = 600_000;

function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

/** The 1-minute load average now (NaN when unknown). */
const load1 = (): number => Number(loadAverage().split(' ')[0]);

/** A percentile as seconds, or `> wall` when it falls among the follow-ups never told (Infinity). */
const pctS = (delaysMs: number[], p: number, wallS: number): number | string => {
  const v = percentile(delaysMs, p);
  return Number.isFinite(v) ? round1(v / 1000) : `> ${Math.round(wallS)}`;
};

/** 10:00 in the corps' zone, `days` calendar days after today (real time). */
const tenOClock = (days: number): Date =>
  dayjs().tz(ZONE).add(days, 'day').hour(10).minute(0).second(0).millisecond(0).toDate();

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: process.env.BENCH_PEAK_SCALE ?? '1' },
      workers: { type: 'string', default: process.env.BENCH_PEAK_WORKERS ?? '1,2,3' },
      replicas: { type: 'string', default: '0' },
      'phase-timeout-s': { type: 'string', default: '1800' },
      until: { type: 'string' },
    },
  });
  const sizes = peakSizes(Number(values.scale));
  const phases = values.workers.split(',').map(Number);
  if (phases.some((w) => !Number.isInteger(w) || w < 1 || w > 8))
    throw new Error(`--workers takes worker counts 1-8, comma-separated; got ${values.workers}`);
  const phaseTimeoutMs = Number(values['phase-timeout-s']) * 1000;
  // A shared machine's slot: no phase waits past this time (it reports what was told by then).
  const until = values.until ? new Date(values.until).getTime() : Infinity;
  if (Number.isNaN(until)) throw new Error(`--until takes a date and time (2026-12-06T23:35:00Z); got ${values.until}`);
  const logger = createLogger({ level: 'silent', name: 'bench-peak' });
  const t0 = Date.now();
  const floor = peakFloor(sizes);
  console.log(`bench:peak ${JSON.stringify(sizes)} phases ${phases.join(',')} load ${loadAverage()}`);
  console.log(
    `WeCom's floor, one card per follow-up: ${floor.cardsPerCorp} per corp, ${floor.cardsPerAdvisor} per advisor → ` +
      `${floor.minutes} clock minute(s), last card ≥ ${floor.floorS} s after 10:00; daily quota ${floor.withinDailyQuota ? 'enough' : 'TOO SMALL'}`,
  );

  const cluster = await startPrivateRedisCluster({ replicasPerMaster: Number(values.replicas) });
  const [mongo, webPort] = await Promise.all([startDevMongoProcess(), freePort()]);
  // The bot's processes reach the dev server through a relay that counts their commands.
  const wire = await startWireCounter(mongo.uri);
  const redis = createRedis({ url: cluster.url, mode: 'cluster', role: 'producer', logger, connectionName: 'bench' });
  // The sandbox follows the bot's shared clock (token expiry, the per-minute, per-hour and daily windows).
  const sandboxClock = new SharedOffsetClock(redis, NAME, 250);
  sandboxClock.start();
  const demo = demoScenario(`http://127.0.0.1:${webPort}`);
  const sandbox = await startSandbox({
    port: 0,
    clock: sandboxClock,
    seed: { ...demo, corps: [...demo.corps, ...peakSandboxCorps(sizes, `http://127.0.0.1:${webPort}`)] },
    logger,
  });
  const backends: Backends = {
    redis: { url: cluster.url } as PrivateRedis,
    mode: 'cluster',
    mongo: {
      uri: wire.uri,
      get process() {
        return mongo.process;
      },
      restart: () => mongo.restart(),
      stop: () => mongo.stop(),
    },
    sandbox,
    webPort,
    async stop() {
      sandboxClock.stop();
      await wire.stop();
      await sandbox.stop();
      await Promise.allSettled([mongo.stop(), cluster.stop()]);
    },
  };
  const stack = await BotStack.create(backends, NAME);
  const results: Array<Record<string, unknown>> = [];
  let seedS: number | undefined;
  try {
    // The bench's own reads (seeding, polling) go to the server directly: not counted.
    await mongoose.connect(`${mongo.uri}/${NAME}`);
    const seedStart = Date.now();
    const seeded = await seedPeakMongo(sizes, {
      cipher: new DataCipher(stack.config.dataKeys.keys, stack.config.dataKeys.activeId),
      prefix: NAME,
      dueAt: tenOClock(1),
    });
    seedS = round1((Date.now() - seedStart) / 1000);
    console.log(
      `seeded ${seeded.corpIds.length} corps, ${seeded.customers} customers, ${seeded.due} due in ${seedS} s (load ${loadAverage()})`,
    );

    for (const [p, workers] of phases.entries()) {
      const dueAt = tenOClock(p + 1);
      await stack.queue(QueueName.scheduled).obliterate({ force: true });
      await rearmPeak(seeded.corpIds, dueAt);
      const names = Array.from({ length: workers }, (_, i) => `worker-${i + 1}`);
      // One after another, with time to boot from source on a loaded machine.
      for (const n of names)
        await stack.start('worker', { WORKER_QUEUES: `${QueueName.scheduled},${QueueName.maintenance}` }, n, 300_000);
      // The per-corp nightly and daily jobs (reconciliation, retention …) run at 03:00–05:00 local
      // on real time, not at 10:00; the bench takes them out so its clock jump cannot fire them.
      const maintenance = stack.queue(QueueName.maintenance);
      for (const s of await maintenance.getJobSchedulers(0, -1))
        if (s.key !== undefined && /-ww|^corp-schedulers$/.test(s.key)) await maintenance.removeJobScheduler(s.key);

      sandbox.context.limits.resetHits();
      const callsBefore = sandbox.context.calls.lastSeq;
      const messagesBefore = seeded.corpIds.map((c) => sandbox.world.corp(c)?.messages.length ?? 0);
      const pids = names.map((n) => stack.procs.get(n)?.child.pid);
      const mongoPid = mongo.process.child.pid;
      const cpuBefore = pids.map(cpuMs);
      const mongoBefore = cpuMs(mongoPid);
      const benchBefore = process.cpuUsage();
      const commandsBefore = wire.counts();
      await setSharedClockOffset(redis, NAME, dueAt.getTime() - LEAD_MS - Date.now(), false);
      const started = Date.now();
      const loads: number[] = [load1()];
      // The count scans the phase's tasks on the dev server: rarer at the larger sizes.
      const pollMs = seeded.due > 20_000 ? 15_000 : 3000;
      let told = 0;
      const phaseEnd = Math.min(started + phaseTimeoutMs, until);
      while (Date.now() < phaseEnd) {
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(pollMs, phaseEnd - Date.now()))));
        told = await TaskModel.countDocuments({ corpId: { $in: seeded.corpIds }, notifyPending: false });
        loads.push(load1());
        if (pollMs > 3000)
          console.log(`  ${Math.round((Date.now() - started) / 1000)} s: ${told} told, load ${loadAverage()}`);
        if (told >= seeded.due) break;
      }
      const wallS = (Date.now() - started) / 1000;
      const workerCpuMs = pids.map((pid, i) => cpuMs(pid) - (cpuBefore[i] ?? 0));
      const mongoCpuMs = cpuMs(mongoPid) - mongoBefore;
      const commands = countsSince(wire.counts(), commandsBefore);
      const commandTotal = Object.values(commands).reduce((a, b) => a + b, 0);
      const bench = process.cpuUsage(benchBefore);
      const { delaysMs, sentAt, open, createdMs } = await notifiedDelays(seeded.corpIds);
      // What the workers still hold: per-task card deliveries waiting behind each other (docs/scale.md §4).
      const left = await stack.queue(QueueName.scheduled).getJobCounts('wait', 'delayed', 'active');
      const hits = sandbox.context.limits.resetHits();
      const messages = seeded.corpIds.flatMap(
        (c, i) => sandbox.world.corp(c)?.messages.slice(messagesBefore[i] ?? 0) ?? [],
      );
      const cards = messages.filter((m) => m.msgtype === 'template_card').length;
      const digests = messages.filter((m) => m.msgtype === 'markdown').length;
      const firstSent = sentAt.reduce((a, b) => Math.min(a, b), Infinity);
      const lastSent = sentAt.reduce((a, b) => Math.max(a, b), 0);
      // Lateness over every due follow-up: one never told counts as later than the phase ran.
      const allDelays = [...delaysMs, ...Array<number>(Math.max(0, seeded.due - delaysMs.length)).fill(Infinity)];
      const workerCpuTotal = workerCpuMs.reduce((a, b) => a + b, 0);
      const row = {
        workers,
        due: seeded.due,
        told: delaysMs.length,
        'not told': seeded.due - delaysMs.length,
        'open tasks not told': open,
        'tasks created': createdMs.length,
        'created p99 s': pctS(
          [...createdMs, ...Array<number>(Math.max(0, seeded.due - createdMs.length)).fill(Infinity)],
          99,
          wallS,
        ),
        'p50 s': pctS(allDelays, 50, wallS),
        'p99 s': pctS(allDelays, 99, wallS),
        'max s': pctS(allDelays, 100, wallS),
        'told ≤ 10 min': delaysMs.filter((d) => d <= TEN_MINUTES_MS).length,
        'follow-ups/s': round1(delaysMs.length / Math.max(1, (lastSent - dueAt.getTime()) / 1000)),
        'cards sent': cards,
        'digests sent': digests,
        'messages/s (first to last)': round1((cards + digests) / Math.max(1, (lastSent - firstSent) / 1000)),
        'scheduled jobs left': Object.values(left).reduce((a, b) => a + b, 0),
        'WeCom calls': sandbox.context.calls.lastSeq - callsBefore,
        'limits hit': hits.rateLimited + hits.memberMinuteDrops + hits.memberHourDrops + hits.appDayRefused,
        // Per task created (= per follow-up told once a phase completes; a cut phase has created more than it told).
        'worker CPU ms/follow-up': round1(workerCpuTotal / Math.max(1, createdMs.length)),
        // Over the phase from 10:00 on (the workers idle through the lead before it).
        'worker cores': round1(workerCpuTotal / Math.max(1000, wallS * 1000 - LEAD_MS)),
        'MongoDB CPU ms/follow-up': round1(mongoCpuMs / Math.max(1, createdMs.length)),
        'MongoDB commands/follow-up': round1(commandTotal / Math.max(1, createdMs.length)),
        'bench+sandbox CPU s': round1((bench.user + bench.system) / 1e6),
        'wall s': round1(wallS),
        load: `${Math.min(...loads)}–${Math.max(...loads)}`,
        hits,
        commands,
      };
      results.push(row);
      console.log(`phase ${p + 1}: ${workers} worker(s)`, JSON.stringify(row));
      const perFollowUp = Object.entries(commands)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${(v / Math.max(1, createdMs.length)).toFixed(2)}`);
      console.log(`  MongoDB commands per follow-up: ${perFollowUp.join(', ')}`);
      await Promise.all(names.map((n) => stack.terminate(n)));
    }
  } finally {
    await mongoose.disconnect().catch(() => undefined);
    await stack.stop();
    redis.disconnect();
    await backends.stop();
  }
  console.log(`\nbench:peak: ${sizes.corps} corps, ${sizes.customers} customers, ${sizes.due} follow-ups due at 10:00`);
  console.log(`WeCom's floor (one card per follow-up): last card ≥ ${floor.floorS} s after 10:00`);
  console.table(results.map(({ hits: _hits, commands: _commands, ...rest }) => rest));
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    'bench-results/peak.json',
    `${JSON.stringify({ at: new Date().toISOString(), sizes, floor, seedS, totalS: round1((Date.now() - t0) / 1000), phases: results }, null, 2)}\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
