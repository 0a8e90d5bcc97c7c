/**
 * `npm run bench:ingest`: a bare Koa app answering 200 versus the real callback endpoint, each
 * served by a child process (compiled JS) and driven by the same autocannon load from this one.
 * Every request carries a callback never sent before (pre-generated, handed out through one
 * shared counter in setupRequest), so the run measures the accept path, not the duplicate path.
 *
 * Two measurements, repeated BENCH_ROUNDS times (a 2-core machine is noisy; the summary takes
 * medians): throughput with 50 connections as fast as possible, and latency at a fixed, evenly
 * paced 1,000 req/s. For the real endpoint every 200 must be matched by exactly one
 * `wecom-inbound` job, with zero non-2xx. Prints tables and writes bench-results/ingest.json.
 * A benchmark, not a test (docs/architecture.md §13.12).
 *
 * Throughput runs both servers side by side and alternates between them in short segments
 * (BENCH_SEGMENTS of BENCH_SEGMENT_S each per server and round, order alternating), and the ratio
 * is the median over adjacent bare/real pairs: this machine's speed drifts on a scale of ten
 * seconds (bare Koa's own CPU per request moved between 65 and 95 µs from one 10 s run to the
 * next), which made ratios of back-to-back 10 s runs swing between 0.32 and 0.58.
 *
 * Both servers run with the web role's production V8 flags (server-process.ts WEB_NODE_ARGS).
 *
 * Env: BENCH_DURATION_S (10, the paced phase), BENCH_SEGMENTS (5), BENCH_SEGMENT_S (2),
 * BENCH_ROUNDS (2), BENCH_PHASES (throughput,rate-1000),
 * BENCH_PROFILE_DIR (write server CPU profiles there), BENCH_NODE_ARGS (replace the V8 flags).
 *
 * BENCH_FSYNC=everysec,always compares Redis fsync policies instead of bare Koa: one private
 * redis-server with AOF on per policy, each with its own callback endpoint, measured in the same
 * alternating segments and paced runs, one table (docs/reliability.md, "Host crash"). Writes
 * bench-results/ingest-fsync.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startPrivateRedis } from '../../src/testing/redis-server.js';
import { benchCorp, generateCallbacks } from './callbacks.js';
import { paced, saturate, type LoadResult } from './load.js';
import { buildServer, startServer, type RunningServer, type ServerMode } from './server-process.js';
import { median, round1, round2 } from './stats.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const SEGMENTS = Number(process.env.BENCH_SEGMENTS ?? 5);
const SEGMENT_S = Number(process.env.BENCH_SEGMENT_S ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PHASES = (process.env.BENCH_PHASES ?? 'throughput,rate-1000').split(',') as Phase[];
const RATE = 1000;
const WARMUP_REQUESTS = 4000;
const MAX_POOL = 250_000;

type Phase = 'throughput' | 'rate-1000';

interface Run extends LoadResult {
  phase: Phase;
  round: number;
  server: ServerMode;
  jobs?: number;
  redisBytesPerEvent?: number;
  /** Redis server CPU (user + sys) per accepted event, µs: its share of the 2 cores. */
  redisCpuUsPerEvent?: number;
  /** Server process CPU per request, µs. */
  serverCpuUs: number;
  /** Load generator (this process) CPU per request, µs. */
  loadCpuUs: number;
  /** Throughput: real/bare of each adjacent pair of segments. */
  pairRatios?: number[];
}

interface Bench {
  bundle: string;
  env: Record<string, string>;
  probe: Redis;
  prefix: string;
}

/** The callback server's environment against one Redis. */
function serverEnv(redisUrl: string, prefix: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PUBLIC_BASE_URL: 'http://127.0.0.1',
    LOG_LEVEL: 'warn',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    MONGODB_URI: 'mongodb://127.0.0.1:1/unused',
    DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOOKUP_HMAC_KEY: randomBytes(32).toString('base64'),
    SPOOL_PATH: mkdtempSync(join(tmpdir(), 'bench-spool-')),
    BENCH_CORP: JSON.stringify(benchCorp),
  };
}

async function main(): Promise<void> {
  const redis = await startPrivateRedis();
  const probe = new Redis(redis.url);
  const prefix = `bench${randomBytes(3).toString('hex')}`;
  const env = serverEnv(redis.url, prefix);
  const bench: Bench = { bundle: await buildServer(), env, probe, prefix };
  console.log(
    `ingest bench: ${ROUNDS} round(s) of ${PHASES.join(', ')} (throughput: ${SEGMENTS} × ${SEGMENT_S} s per server, alternating; rate-1000: ${DURATION_S} s), ${cpus().length} CPUs, node ${process.version}`,
  );
  const runs: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order: ServerMode[] = round % 2 === 1 ? ['bare', 'real'] : ['real', 'bare'];
    for (const phase of PHASES) {
      const measured =
        phase === 'throughput'
          ? await measureThroughput(bench, round, order)
          : [
              await measurePaced(bench, order[0] as ServerMode, round),
              await measurePaced(bench, order[1] as ServerMode, round),
            ];
      for (const run of measured) {
        runs.push(run);
        console.log(
          `  round ${round} ${phase.padEnd(10)} ${run.server}: ${Math.round(run.rps)} req/s, p50 ${round2(run.p50)} ms, p99 ${round2(run.p99)} ms, CPU/req server ${run.serverCpuUs} µs load ${run.loadCpuUs} µs${run.jobs === undefined ? '' : `, ${run.ok2xx} x 200 / ${run.jobs} jobs, redis ${run.redisCpuUsPerEvent} µs CPU/event`}${run.pairRatios ? `, pair ratios ${run.pairRatios.map(round2).join(' ')}` : ''}`,
        );
      }
    }
  }
  const summary = PHASES.map((phase) =>
    summarise(
      phase,
      runs.filter((run) => run.phase === phase),
    ),
  );
  console.table(summary);
  mkdirSync('bench-results', { recursive: true });
  const perRun = runs.map(
    ({
      phase,
      round,
      server,
      sent,
      ok2xx,
      non2xx,
      errors,
      elapsedS,
      rps,
      p50,
      p99,
      max,
      serverCpuUs,
      loadCpuUs,
      jobs,
      redisBytesPerEvent,
      redisCpuUsPerEvent,
      pairRatios,
    }) => ({
      phase,
      round,
      server,
      sent,
      ok2xx,
      non2xx,
      errors,
      elapsedS: round2(elapsedS),
      rps: Math.round(rps),
      p50: round2(p50),
      p99: round2(p99),
      max: round2(max),
      serverCpuUs,
      loadCpuUs,
      jobs,
      redisBytesPerEvent,
      redisCpuUsPerEvent,
      pairRatios: pairRatios?.map(round2),
    }),
  );
  writeFileSync(
    'bench-results/ingest.json',
    `${JSON.stringify({ at: new Date().toISOString(), durationS: DURATION_S, segments: SEGMENTS, segmentS: SEGMENT_S, rounds: ROUNDS, rate: RATE, machine: { cpus: cpus().length, node: process.version }, summary, runs: perRun }, null, 2)}\n`,
  );
  console.log(
    'targets: throughput ratio >= 0.5; p99 at 1000 req/s within 5 ms of bare Koa; every 200 matched by one job; zero non-2xx',
  );
  probe.disconnect();
  await redis.stop();
}

/** What one segment or paced run measured; for the real server, checked against the jobs it made. */
interface Sample extends LoadResult {
  serverCpuS: number;
  loadCpuS: number;
  jobs?: number;
  redisBytes?: number;
  redisCpuS?: number;
}

/** Runs `load` against a server with callbacks it has never seen, measuring CPU and (real) Redis. */
async function sample(
  bench: Bench,
  running: RunningServer,
  server: ServerMode,
  load: () => Promise<LoadResult>,
): Promise<Sample> {
  const before =
    server === 'real' ? { memory: await usedMemory(bench.probe), cpu: await redisCpuS(bench.probe) } : undefined;
  const serverCpuBefore = running.cpuSeconds();
  const loadCpuBefore = process.cpuUsage();
  const result = await load();
  const loadCpu = process.cpuUsage(loadCpuBefore);
  const out: Sample = {
    ...result,
    serverCpuS: running.cpuSeconds() - serverCpuBefore,
    loadCpuS: (loadCpu.user + loadCpu.system) / 1e6,
  };
  if (before) {
    out.jobs = await settledJobCount(bench, result.ok2xx);
    out.redisBytes = (await usedMemory(bench.probe)) - before.memory;
    out.redisCpuS = (await redisCpuS(bench.probe)) - before.cpu;
    await bench.probe.flushall();
  }
  return out;
}

/** Samples of one server folded into a Run: rates over the summed time, percentiles per sample (median). */
function foldRun(phase: Phase, round: number, server: ServerMode, samples: Sample[], pairRatios?: number[]): Run {
  const sum = (pick: (s: Sample) => number) => samples.reduce((total, s) => total + pick(s), 0);
  const sent = sum((s) => s.sent);
  const ok2xx = sum((s) => s.ok2xx);
  const elapsedS = sum((s) => s.elapsedS);
  const perEvent = (total: number) => (ok2xx ? Math.round(total / ok2xx) : 0);
  const run: Run = {
    phase,
    round,
    server,
    sent,
    ok2xx,
    non2xx: sum((s) => s.non2xx),
    errors: sum((s) => s.errors),
    elapsedS,
    rps: ok2xx / elapsedS,
    p50: median(samples.map((s) => s.p50)),
    p99: median(samples.map((s) => s.p99)),
    max: Math.max(...samples.map((s) => s.max)),
    serverCpuUs: Math.round((sum((s) => s.serverCpuS) * 1e6) / sent),
    loadCpuUs: Math.round((sum((s) => s.loadCpuS) * 1e6) / sent),
  };
  if (server === 'real')
    Object.assign(run, {
      jobs: sum((s) => s.jobs ?? 0),
      redisBytesPerEvent: perEvent(sum((s) => s.redisBytes ?? 0)),
      redisCpuUsPerEvent: perEvent(sum((s) => s.redisCpuS ?? 0) * 1e6),
    });
  if (pairRatios) run.pairRatios = pairRatios;
  return run;
}

/**
 * Throughput of one round: both servers started and warmed, then SEGMENTS closed-loop segments of
 * about SEGMENT_S each, alternating between them; each segment's pool is sized from the server's
 * warm-up rate and never sent before.
 */
async function measureThroughput(bench: Bench, round: number, order: ServerMode[]): Promise<Run[]> {
  const servers = new Map<ServerMode, RunningServer>();
  try {
    const rates = new Map<ServerMode, number>();
    for (const server of order) {
      const running = await startServer(bench.bundle, server, bench.env);
      servers.set(server, running);
      rates.set(server, (await saturate(running.url, generateCallbacks(WARMUP_REQUESTS))).rps);
    }
    await sleep(300);
    await bench.probe.flushall();
    const samples = new Map<ServerMode, Sample[]>(order.map((server) => [server, []]));
    const pairRatios: number[] = [];
    for (let segment = 0; segment < SEGMENTS; segment++) {
      const pair = new Map<ServerMode, Sample>();
      for (const server of segment % 2 === 0 ? order : [...order].reverse()) {
        const running = servers.get(server) as RunningServer;
        const pool = generateCallbacks(Math.min(MAX_POOL, Math.ceil((rates.get(server) as number) * SEGMENT_S)));
        const result = await sample(bench, running, server, () => saturate(running.url, pool));
        samples.get(server)?.push(result);
        pair.set(server, result);
      }
      pairRatios.push((pair.get('real') as Sample).rps / (pair.get('bare') as Sample).rps);
    }
    return order.map((server) =>
      foldRun('throughput', round, server, samples.get(server) as Sample[], server === 'real' ? pairRatios : undefined),
    );
  } finally {
    for (const running of servers.values()) await running.stop();
    await bench.probe.flushall();
  }
}

/** The paced phase for one server: warm up, then 1,000 req/s for DURATION_S with callbacks it has never seen. */
async function measurePaced(bench: Bench, server: ServerMode, round: number): Promise<Run> {
  const running = await startServer(bench.bundle, server, bench.env);
  try {
    await saturate(running.url, generateCallbacks(WARMUP_REQUESTS));
    await sleep(300);
    await bench.probe.flushall();
    const pool = generateCallbacks(RATE * DURATION_S);
    return foldRun('rate-1000', round, server, [
      await sample(bench, running, server, () => paced(running.url, pool, RATE, DURATION_S)),
    ]);
  } finally {
    await running.stop();
    await bench.probe.flushall();
  }
}

/** Jobs in wecom-inbound's wait list, once spooled callbacks (if any) have been relayed. */
async function settledJobCount(bench: Bench, expected: number): Promise<number> {
  const key = `${bench.prefix}:wecom-inbound:wait`;
  let jobs = Number(await bench.probe.llen(key));
  for (let waited = 0; jobs < expected && waited < 5000; waited += 250) {
    await sleep(250);
    jobs = Number(await bench.probe.llen(key));
  }
  return jobs;
}

async function redisCpuS(probe: Redis): Promise<number> {
  const info = await probe.info('cpu');
  return Number(info.match(/used_cpu_user:([\d.]+)/)?.[1] ?? 0) + Number(info.match(/used_cpu_sys:([\d.]+)/)?.[1] ?? 0);
}

async function usedMemory(probe: Redis): Promise<number> {
  return Number((await probe.info('memory')).match(/used_memory:(\d+)/)?.[1] ?? 0);
}

/** Medians across rounds for speed and latency; sums and all-rounds checks for correctness. */
function summarise(phase: Phase, runs: Run[]): Record<string, unknown> {
  const bare = runs.filter((run) => run.server === 'bare');
  const real = runs.filter((run) => run.server === 'real');
  // Throughput: every adjacent bare/real pair of segments; paced: the rounds.
  const ratios = real.flatMap(
    (run) => run.pairRatios ?? [run.rps / (bare.find((b) => b.round === run.round)?.rps ?? Number.NaN)],
  );
  const deltas = real.map((run) => run.p99 - (bare.find((b) => b.round === run.round)?.p99 ?? Number.NaN));
  const accepted = real.reduce((sum, run) => sum + run.ok2xx, 0);
  const jobs = real.reduce((sum, run) => sum + (run.jobs ?? 0), 0);
  return {
    phase,
    bareRps: Math.round(median(bare.map((run) => run.rps))),
    realRps: Math.round(median(real.map((run) => run.rps))),
    ratio: round2(median(ratios)),
    bareP50: round2(median(bare.map((run) => run.p50))),
    bareP99: round2(median(bare.map((run) => run.p99))),
    realP50: round2(median(real.map((run) => run.p50))),
    realP99: round2(median(real.map((run) => run.p99))),
    p99DeltaMs: round2(median(deltas)),
    accepted,
    jobs,
    jobsMatch: real.every((run) => run.jobs === run.ok2xx),
    non2xx:
      real.reduce((sum, run) => sum + run.non2xx + run.errors, 0) +
      bare.reduce((sum, run) => sum + run.non2xx + run.errors, 0),
    redisBytesPerEvent: Math.round(median(real.map((run) => run.redisBytesPerEvent ?? 0))),
    redisCpuUsPerEvent: Math.round(median(real.map((run) => run.redisCpuUsPerEvent ?? 0))),
    bareCpuUs: Math.round(median(bare.map((run) => run.serverCpuUs))),
    realCpuUs: Math.round(median(real.map((run) => run.serverCpuUs))),
    rounds: real.length,
    pairs: ratios.length,
    worstRatio: round2(Math.min(...ratios)),
    worstP99DeltaMs: round1(Math.max(...deltas)),
  };
}

type FsyncPolicy = 'everysec' | 'always';

/**
 * BENCH_FSYNC: the callback endpoint against Redis with AOF and each fsync policy. `always`
 * fsyncs before Redis answers, so an acknowledged callback survives a power loss; `everysec` can
 * lose the last second. Same segments and pacing as the main bench, alternating between policies.
 */
async function fsyncMain(policies: FsyncPolicy[]): Promise<void> {
  const bundle = await buildServer();
  const setups: Array<{
    policy: FsyncPolicy;
    stop: () => Promise<void>;
    bench: Bench;
    running: RunningServer;
    rate: number;
    throughput: Sample[];
    paced: Sample[];
  }> = [];
  console.log(
    `ingest fsync bench: AOF on, ${policies.join(' vs ')}, ${ROUNDS} round(s) (throughput: ${SEGMENTS} × ${SEGMENT_S} s per policy, alternating; rate-${RATE}: ${DURATION_S} s), ${cpus().length} CPUs, node ${process.version}`,
  );
  try {
    for (const policy of policies) {
      const redis = await startPrivateRedis({ appendOnly: true, appendFsync: policy });
      const probe = new Redis(redis.url);
      const prefix = `bench${randomBytes(3).toString('hex')}`;
      const bench: Bench = { bundle, env: serverEnv(redis.url, prefix), probe, prefix };
      const running = await startServer(bundle, 'real', bench.env);
      const rate = (await saturate(running.url, generateCallbacks(WARMUP_REQUESTS))).rps;
      await probe.flushall();
      setups.push({
        policy,
        bench,
        running,
        rate,
        throughput: [],
        paced: [],
        stop: async () => {
          await running.stop();
          probe.disconnect();
          await redis.stop();
        },
      });
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (let segment = 0; segment < SEGMENTS; segment++) {
        for (const setup of (segment + round) % 2 === 0 ? setups : [...setups].reverse()) {
          const pool = generateCallbacks(Math.min(MAX_POOL, Math.ceil(setup.rate * SEGMENT_S)));
          setup.throughput.push(
            await sample(setup.bench, setup.running, 'real', () => saturate(setup.running.url, pool)),
          );
        }
      }
      for (const setup of round % 2 === 1 ? setups : [...setups].reverse()) {
        const pool = generateCallbacks(RATE * DURATION_S);
        const paced1 = await sample(setup.bench, setup.running, 'real', () =>
          paced(setup.running.url, pool, RATE, DURATION_S),
        );
        setup.paced.push(paced1);
        console.log(
          `  round ${round} ${setup.policy}: throughput ${Math.round(median(setup.throughput.slice(-SEGMENTS).map((x) => x.rps)))} req/s; at ${RATE} req/s p50 ${round2(paced1.p50)} ms, p99 ${round2(paced1.p99)} ms`,
        );
      }
    }
    const base = setups[0];
    const table = setups.map((setup) => {
      const all = [...setup.throughput, ...setup.paced];
      const accepted = all.reduce((sum, x) => sum + x.ok2xx, 0);
      const jobs = all.reduce((sum, x) => sum + (x.jobs ?? 0), 0);
      const rps = median(setup.throughput.map((x) => x.rps));
      return {
        appendfsync: setup.policy,
        throughputRps: Math.round(rps),
        vsFirst: base ? round2(rps / median(base.throughput.map((x) => x.rps))) : 1,
        p50Ms: round2(median(setup.paced.map((x) => x.p50))),
        p99Ms: round2(median(setup.paced.map((x) => x.p99))),
        redisCpuUsPerEvent: accepted
          ? Math.round((all.reduce((sum, x) => sum + (x.redisCpuS ?? 0), 0) * 1e6) / accepted)
          : 0,
        accepted,
        jobsMatch: jobs === accepted,
        non2xx: all.reduce((sum, x) => sum + x.non2xx + x.errors, 0),
      };
    });
    console.table(table);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      'bench-results/ingest-fsync.json',
      `${JSON.stringify({ at: new Date().toISOString(), segments: SEGMENTS, segmentS: SEGMENT_S, durationS: DURATION_S, rounds: ROUNDS, rate: RATE, machine: { cpus: cpus().length, node: process.version }, table }, null, 2)}\n`,
    );
  } finally {
    for (const setup of setups) await setup.stop();
  }
}

const fsyncPolicies = process.env.BENCH_FSYNC?.split(',')
  .map((p) => p.trim())
  .filter(Boolean);
if (fsyncPolicies?.some((p) => p !== 'everysec' && p !== 'always')) {
  console.error('BENCH_FSYNC: a comma-separated list of everysec and always, e.g. BENCH_FSYNC=everysec,always');
  process.exit(2);
}
(fsyncPolicies?.length ? fsyncMain(fsyncPolicies as FsyncPolicy[]) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
