/**
 * `npm run bench:schedules` (docs/tasks.md): seeds BENCH_SCHEDULES (default 200,000) follow-up
 * schedules spread over a year with BENCH_DUE (default 2,000) due in the next minute, then in one
 * run prints:
 *  1. Redis bytes per waiting schedule (plans live in MongoDB) vs the same plans as delayed
 *     BullMQ jobs (a sample of BENCH_DELAYED_SAMPLE, default 20,000, extrapolated per job);
 *  2. sweep throughput (due schedules/s moved into the queue) vs BullMQ's own `addBulk` rate,
 *     over BENCH_ROUNDS (default 5) rounds in alternating order, reported as medians (the
 *     machine is shared, so a single round is noise-prone); the due set is reset between rounds;
 *  3. the delay from due time to the advisor's notification sent, with BullMQ workers running
 *     the real follow_up path (task upsert, debounced delivery, digest rule) against an in-process
 *     WeCom stub (no network), p50/p99.
 * Writes bench-results/schedules.json. Against a private Redis and the dev MongoDB server in a
 * process of its own (as MongoDB would be), so its work does not take turns with the sweep's.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import mongoose, { Types } from 'mongoose';
import { startDevMongoProcess } from '../dev-mongo/child-process.js';
import type { WorkerContext } from '../../jobs/context.js';
import { runFollowUpSchedule, runTaskNotify } from '../../jobs/processors/tasks.handlers.js';
import type { Corp } from '../../src/domain/corps/corp.types.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { PersonalData } from '../../src/domain/customers/personal-data.js';
import { ScheduleModel } from '../../src/domain/schedules/schedule.model.js';
import { runSweep } from '../../src/domain/schedules/sweep.js';
import { defaultTaskSettings } from '../../src/domain/tasks/task-settings.js';
import { TaskModel } from '../../src/domain/tasks/task.model.js';
import { SystemClock } from '../../src/infra/clock.js';
import { DataCipher, LookupHasher } from '../../src/infra/data-crypto.js';
import { createLogger } from '../../src/infra/logger.js';
import { Queues } from '../../src/queues/queue-factory.js';
import { followUpJob } from '../../src/queues/jobs/schedules.jobs.js';
import { taskNotifyJob } from '../../src/queues/jobs/tasks.jobs.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { startPrivateRedis } from '../../src/testing/redis-server.js';
import { median, percentile, round1, round2 } from './stats.js';

const TOTAL = Number(process.env.BENCH_SCHEDULES ?? 200_000);
const DUE = Number(process.env.BENCH_DUE ?? 2_000);
const SAMPLE = Number(process.env.BENCH_DELAYED_SAMPLE ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ADVISORS = 200;
const CORP = 'wwbenchcorp0001';
const YEAR_MS = 365 * 86_400_000;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/**
 * Puts the swept schedules back to `planned` (an index walk on `{status, dueAt}`) and empties the
 * `scheduled` queue (no worker runs yet), so every round sweeps the same due set.
 */
async function resetDue(queues: Queues): Promise<void> {
  await queues.get(QueueName.scheduled).obliterate({ force: true });
  await ScheduleModel.updateMany({ status: 'enqueued' }, { $set: { status: 'planned' }, $unset: { enqueuedAt: 1 } });
}

/** Due times 20–60 s from now again, so the latency phase does not count the rounds' duration. */
async function retimeDue(dueKeys: string[]): Promise<void> {
  const now = Date.now();
  await ScheduleModel.bulkWrite(
    dueKeys.map((key, j) => ({
      updateOne: {
        filter: { key },
        update: { $set: { dueAt: new Date(now + 20_000 + Math.floor((j / dueKeys.length) * 40_000)) } },
      },
    })),
    { ordered: false },
  );
}

/** One timed sweep over the due set: due schedules/s moved into the queue. */
async function timeSweep(queues: Queues): Promise<{ perS: number; count: number }> {
  const start = process.hrtime.bigint();
  const { enqueued } = await runSweep({ queues, now: new Date(), windowMs: 60_000 });
  return { perS: enqueued / (Number(process.hrtime.bigint() - start) / 1e9), count: enqueued };
}

/**
 * BullMQ alone: the jobs the sweep adds — DUE follow_up jobs with the same data, job id shape and
 * delays (the due set lies 20–60 s ahead, so they are delayed jobs) — in addBulk calls of the
 * sweep's batch size, on a fresh queue.
 */
async function timeAddBulk(redis: Redis, prefix: string): Promise<{ perS: number; count: number }> {
  const addQueue = new Queue('bench-addbulk', { connection: redis as unknown as ConnectionOptions, prefix });
  const start = process.hrtime.bigint();
  for (let i = 0; i < DUE; i += 500) {
    await addQueue.addBulk(
      Array.from({ length: Math.min(500, DUE - i) }, (_, k) => ({
        name: 'follow_up',
        data: { scheduleId: new Types.ObjectId().toHexString(), corpId: CORP, kind: 'follow_up' },
        opts: {
          jobId: `sched-${new Types.ObjectId().toHexString()}`,
          delay: 20_000 + Math.floor(((i + k) / DUE) * 40_000),
        },
      })),
    );
  }
  const perS = DUE / (Number(process.hrtime.bigint() - start) / 1e9);
  await addQueue.obliterate({ force: true });
  await addQueue.close();
  return { perS, count: DUE };
}

async function main(): Promise<void> {
  const [redisServer, mongo] = await Promise.all([startPrivateRedis(), startDevMongoProcess()]);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const workerConn = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  await mongoose.connect(`${mongo.uri}/bench`);
  await Promise.all([ScheduleModel.syncIndexes(), TaskModel.syncIndexes(), CustomerModel.syncIndexes()]);
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const prefix = 'bench';
  const queues = new Queues(redis, prefix);
  const t0 = Date.now();
  const customers = await CustomerModel.insertMany(
    Array.from({ length: ADVISORS }, (_, i) => ({
      corpId: CORP,
      externalUserId: `wmBench${i}`,
      responsibleUserid: `adv${i}`,
    })),
  );

  // 1. Seed: DUE in the next minute (starting 20 s from now), the rest over a year.
  const memBefore = await usedMemory(redis);
  const seedStart = Date.now();
  // The due ones go last, timed from the end of seeding, so they are still ahead when swept.
  for (let i = TOTAL - 1; i >= 0; i -= 5000) {
    const docs = [];
    const now = Date.now();
    for (let j = i; j > Math.max(-1, i - 5000); j--) {
      const dueSoon = j < DUE;
      const dueAt = new Date(
        dueSoon ? now + 20_000 + Math.floor((j / DUE) * 40_000) : now + 120_000 + Math.floor(Math.random() * YEAR_MS),
      );
      const advisor = j % ADVISORS;
      docs.push({
        key: `bench-${j}`,
        corpId: CORP,
        customerId: customers[advisor]?._id,
        kind: 'follow_up',
        occurrenceId: `bench:${j}`,
        dueAt,
        status: 'planned',
        advisorUserid: `adv${advisor}`,
        payload: { title: '回访', sla: '24h' },
      });
    }
    await ScheduleModel.insertMany(docs, { ordered: false });
  }
  const seedMs = Date.now() - seedStart;
  const memAfterSeed = await usedMemory(redis);
  const bytesPerSchedule = Math.max(0, memAfterSeed - memBefore) / TOTAL;

  // The same plans as delayed BullMQ jobs (a sample, same job data shape).
  const delayedQueue = new Queue('bench-delayed', { connection: redis as unknown as ConnectionOptions, prefix });
  const memBeforeDelayed = await usedMemory(redis);
  for (let i = 0; i < SAMPLE; i += 1000) {
    await delayedQueue.addBulk(
      Array.from({ length: Math.min(1000, SAMPLE - i) }, (_, k) => ({
        name: 'follow_up',
        data: { scheduleId: new Types.ObjectId().toHexString(), corpId: CORP, kind: 'follow_up' },
        opts: {
          jobId: `sched-${new Types.ObjectId().toHexString()}`,
          delay: 120_000 + Math.floor(Math.random() * YEAR_MS) + k,
        },
      })),
    );
  }
  const bytesPerDelayedJob = ((await usedMemory(redis)) - memBeforeDelayed) / SAMPLE;
  await delayedQueue.obliterate({ force: true });

  // 2. addBulk rate (BullMQ alone, same batch size as the sweep) vs the sweep, alternating order.
  const dueKeys = Array.from({ length: DUE }, (_, j) => `bench-${j}`);
  const rounds: Array<{ sweepPerS: number; addBulkPerS: number; enqueued: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    await resetDue(queues);
    const sweepFirst = r % 2 === 0;
    const first = sweepFirst ? await timeSweep(queues) : await timeAddBulk(redis, prefix);
    const second = sweepFirst ? await timeAddBulk(redis, prefix) : await timeSweep(queues);
    const sweep = sweepFirst ? first : second;
    rounds.push({ sweepPerS: sweep.perS, addBulkPerS: (sweepFirst ? second : first).perS, enqueued: sweep.count });
  }
  const sweepPerS = median(rounds.map((r) => r.sweepPerS));
  const addBulkPerS = median(rounds.map((r) => r.addBulkPerS));
  await resetDue(queues);
  await retimeDue(dueKeys);

  // 3. Workers on the real follow_up path with a WeCom stub that records when each advisor was told.
  const sentAt = new Map<string, number[]>();
  const stubApi = {
    corpId: CORP,
    sendMessage: async (req: { touser?: string }) => {
      for (const u of (req.touser ?? '').split('|')) sentAt.set(u, [...(sentAt.get(u) ?? []), Date.now()]);
      return { errcode: 0, errmsg: 'ok', msgid: 'm', response_code: 'rc' };
    },
    updateTemplateCard: async () => ({ errcode: 0, errmsg: 'ok' }),
  };
  const corp = {
    corpId: CORP,
    kind: 'dealer',
    displayName: 'bench',
    agentId: 1,
    secret: 's',
    callback: { token: 't', encodingAesKey: 'k' },
    contactSync: undefined,
    timezone: 'Asia/Shanghai',
    enabled: true,
    retention: {} as Corp['retention'],
    tasks: { ...defaultTaskSettings, workingHours: { start: '00:00', end: '23:59' } },
  } as Corp;
  const ctx = {
    config: {
      redis: { queuePrefix: prefix },
      publicBaseUrl: 'https://bench.invalid',
      defaultTimezone: 'Asia/Shanghai',
    },
    logger,
    clock: new SystemClock(),
    redis,
    queues,
    corps: { get: () => corp },
    wecom: { forCorp: () => stubApi },
    // A real sealer (a stub went stale once and failed every card silently).
    pd: new PersonalData(new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1'), new LookupHasher(randomBytes(32))),
    tuning: { notifyDebounceMs: 2000 },
  } as unknown as WorkerContext;
  const worker = new Worker(
    QueueName.scheduled,
    async (job) => {
      const log = logger;
      if (job.name === taskNotifyJob.name) return runTaskNotify(ctx, taskNotifyJob.parse(job), log);
      return runFollowUpSchedule(ctx, followUpJob.parse(job).scheduleId, log);
    },
    { connection: workerConn as unknown as ConnectionOptions, prefix, concurrency: 16 },
  );

  // A failing card job must stop the bench, not leave the latency phase reading "0 of N".
  let firstFailure: string | undefined;
  worker.on('failed', (job, err) => (firstFailure ??= `${job?.name ?? 'job'}: ${err.message}`));
  const swept = await runSweep({ queues, now: new Date(), windowMs: 60_000 });

  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline && (await TaskModel.countDocuments({ notifyPending: false })) < swept.enqueued) {
    if (firstFailure) throw new Error(`latency phase: a job failed (${firstFailure})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const due = await ScheduleModel.find({ key: { $in: dueKeys } }, { dueAt: 1, advisorUserid: 1 }).lean();
  const delays: number[] = [];
  for (const s of due) {
    const sends = sentAt.get(s.advisorUserid ?? '') ?? [];
    const first = sends.find((t) => t >= s.dueAt.getTime());
    if (first !== undefined) delays.push(first - s.dueAt.getTime());
  }
  await worker.close();

  const result = {
    schedules: TOTAL,
    dueNextMinute: DUE,
    seedSeconds: round1(seedMs / 1000),
    redisBytesPerWaitingSchedule: round1(bytesPerSchedule),
    redisBytesPerDelayedJob: round1(bytesPerDelayedJob),
    redisRatio:
      bytesPerSchedule > 0 ? round1(bytesPerDelayedJob / bytesPerSchedule) : 'infinite (0 B per waiting schedule)',
    sweepEnqueued: swept.enqueued,
    rounds: rounds.map((r) => ({
      sweepPerSecond: Math.round(r.sweepPerS),
      addBulkPerSecond: Math.round(r.addBulkPerS),
      enqueued: r.enqueued,
    })),
    sweepPerSecond: Math.round(sweepPerS),
    addBulkPerSecond: Math.round(addBulkPerS),
    sweepVsAddBulk: round2(sweepPerS / addBulkPerS),
    notified: delays.length,
    dueToSentP50s: round1(percentile(delays, 50) / 1000),
    dueToSentP99s: round1(percentile(delays, 99) / 1000),
    totalSeconds: round1((Date.now() - t0) / 1000),
  };
  console.table([
    {
      measure: 'Redis bytes per waiting schedule (MongoDB plan)',
      value: result.redisBytesPerWaitingSchedule,
      target: '',
    },
    { measure: 'Redis bytes per delayed BullMQ job', value: result.redisBytesPerDelayedJob, target: '' },
    { measure: 'ratio', value: result.redisRatio, target: '≥ 20×' },
    {
      measure: `sweep: due schedules/s into the queue (median of ${ROUNDS})`,
      value: result.sweepPerSecond,
      target: '',
    },
    { measure: `BullMQ addBulk jobs/s (median of ${ROUNDS})`, value: result.addBulkPerSecond, target: '' },
    { measure: 'sweep / addBulk', value: result.sweepVsAddBulk, target: '≥ 0.5' },
    {
      measure: `due → notification sent p50 (s), ${result.notified} of ${DUE}`,
      value: result.dueToSentP50s,
      target: '',
    },
    { measure: 'due → notification sent p99 (s)', value: result.dueToSentP99s, target: '≤ 90' },
  ]);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/schedules.json', `${JSON.stringify(result, null, 2)}\n`);
  await queues.close();
  redis.disconnect();
  workerConn.disconnect();
  await mongoose.disconnect();
  await Promise.all([redisServer.stop(), mongo.stop()]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
