import type { Redis } from 'ioredis';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import { QueueName } from '../../queues/queue-names.js';
import { ScheduleModel } from './schedule.model.js';

/** Job data of a fired schedule on the `scheduled` queue: ids only. */
export interface ScheduledJobData {
  scheduleId: string;
  corpId: string;
  kind: string;
}

export const SWEEP_TASK_NAME = 'schedule-sweep';
export const SWEEP_SCHEDULER_ID = 'schedule-sweep-every-minute';

/** Deterministic job id of a schedule (no `:`, never all digits). */
export const scheduleJobId = (scheduleId: string): string => `sched-${scheduleId}`;

export interface SweepOptions {
  queues: Queues;
  now: Date;
  /** Look-ahead: what falls due within it is enqueued now, delayed to its exact time. Default 60 s. */
  windowMs?: number;
  batchSize?: number;
  /** `enqueued` schedules older than this whose job vanished are enqueued again. Default 10 min. */
  staleMs?: number;
  /** Fault injection for the crash test: called after a batch is enqueued and before it is marked. */
  afterEnqueue?: () => Promise<void>;
  log?: Logger;
}

/** Batches one sweep pass reads at once and pipelines (enqueue of batch k+1 overlaps marking batch k). */
const BATCHES_PER_PAGE = 8;

type DueSchedule = { _id: unknown; corpId: string; kind: string; dueAt: Date };

/**
 * The minute sweep (design §6): moves planned schedules due within the window into the
 * `scheduled` queue in bulk with deterministic job ids, then marks them `enqueued`. Enqueue
 * happens first, so a crash in between leaves them `planned`; the next run adds the same job ids
 * again, which BullMQ ignores while the job exists, and the executor skips a schedule that
 * already fired. `enqueued` schedules whose job vanished (Redis lost data) are enqueued again.
 *
 * Throughput: one `find` (an index walk on `{status, dueAt}` that stops at the limit) serves a
 * page of several batches; each batch is one `addBulk` and one unordered bulk write, and the
 * marking of a batch runs while the next batch is added to Redis. A batch is only marked after
 * its own `addBulk` resolved, so the crash guarantee above holds per batch.
 */
export async function runSweep(opts: SweepOptions): Promise<{ enqueued: number; recovered: number }> {
  const windowMs = opts.windowMs ?? 60_000;
  const batchSize = opts.batchSize ?? 500;
  const queue = opts.queues.get(QueueName.scheduled);
  const horizon = new Date(opts.now.getTime() + windowMs);
  const pageSize = batchSize * BATCHES_PER_PAGE;
  let enqueued = 0;
  for (;;) {
    const due: DueSchedule[] = await ScheduleModel.find({ status: 'planned', dueAt: { $lte: horizon } }, { _id: 1, corpId: 1, kind: 1, dueAt: 1 }).sort({ dueAt: 1 }).limit(pageSize).lean();
    if (due.length === 0) break;
    enqueued += await sweepPage(opts, queue, due, batchSize);
    if (due.length < pageSize) break;
  }
  const recovered = await recoverVanished(opts, queue);
  opts.log?.info({ enqueued, recovered }, 'schedule sweep done');
  return { enqueued, recovered };
}

/** Enqueues a page batch by batch, marking each batch (without waiting) once it is in Redis. */
async function sweepPage(opts: SweepOptions, queue: ReturnType<Queues['get']>, due: DueSchedule[], batchSize: number): Promise<number> {
  const marks: Array<Promise<unknown>> = [];
  let enqueueFailure: { error: unknown } | undefined;
  try {
    for (let i = 0; i < due.length; i += batchSize) {
      const batch = due.slice(i, i + batchSize);
      await queue.addBulk(batch.map((s) => ({
        name: s.kind,
        data: { scheduleId: String(s._id), corpId: s.corpId, kind: s.kind } satisfies ScheduledJobData,
        opts: { jobId: scheduleJobId(String(s._id)), delay: Math.max(0, s.dueAt.getTime() - opts.now.getTime()) },
      })));
      await opts.afterEnqueue?.();
      marks.push(markEnqueued(batch, opts.now));
    }
  } catch (error) {
    enqueueFailure = { error };
  }
  // Never leave a mark in flight (or its rejection unobserved) when an enqueue fails.
  const settled = await Promise.allSettled(marks);
  if (enqueueFailure) throw enqueueFailure.error;
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return due.length;
}

/**
 * Marks a batch `planned` → `enqueued` in one statement. The job id is not stored: it is derived
 * from the schedule id (`scheduleJobId`), so the mark is the same for every schedule of the batch.
 */
function markEnqueued(batch: DueSchedule[], now: Date): Promise<unknown> {
  return ScheduleModel.updateMany({ _id: { $in: batch.map((s) => s._id) }, status: 'planned' }, { $set: { status: 'enqueued', enqueuedAt: now } });
}

async function recoverVanished(opts: SweepOptions, queue: ReturnType<Queues['get']>): Promise<number> {
  const staleBefore = new Date(opts.now.getTime() - (opts.staleMs ?? 10 * 60_000));
  const stale = await ScheduleModel.find({ status: 'enqueued', enqueuedAt: { $lt: staleBefore } }, { _id: 1, corpId: 1, kind: 1 }).limit(opts.batchSize ?? 500).lean();
  let recovered = 0;
  for (const s of stale) {
    const jobId = scheduleJobId(String(s._id));
    if (await queue.getJob(jobId)) continue;
    await queue.add(s.kind, { scheduleId: String(s._id), corpId: s.corpId, kind: s.kind } satisfies ScheduledJobData, { jobId });
    await ScheduleModel.updateOne({ _id: s._id, status: 'enqueued' }, { $set: { enqueuedAt: opts.now } });
    recovered++;
  }
  return recovered;
}

/**
 * Runs the sweep under a Redis lock so only one run happens at a time across all workers (the
 * job scheduler makes one job per minute, but a slow run must not overlap the next).
 */
export async function runSweepExclusive(redis: Redis, prefix: string, opts: SweepOptions): Promise<{ enqueued: number; recovered: number } | { skipped: true }> {
  const lockKey = `${prefix}:lock:schedule-sweep`;
  const token = `${process.pid}-${opts.now.getTime()}-${Math.random()}`;
  const got = await redis.set(lockKey, token, 'PX', 120_000, 'NX');
  if (got !== 'OK') return { skipped: true };
  try {
    return await runSweep(opts);
  } finally {
    await redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, lockKey, token);
  }
}

/** Installs the minute sweep as a BullMQ job scheduler on `maintenance` (idempotent; one per cluster). */
export async function ensureSweepScheduler(queues: Queues): Promise<void> {
  await queues.get(QueueName.maintenance).upsertJobScheduler(SWEEP_SCHEDULER_ID, { every: 60_000 }, { name: SWEEP_TASK_NAME, data: {} });
}
