import type { Redis } from 'ioredis';
import type { Collection, FindCursor } from 'mongodb';
import type { Types } from 'mongoose';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import { scheduleBatchJobId, scheduleJobId, scheduleJobs } from '../../queues/jobs/schedules.jobs.js';
import { QueueName } from '../../queues/queue-names.js';
import type { ScheduleKind } from './schedule.model.js';
import { ScheduleModel } from './schedule.model.js';

/** Job data of a fired schedule on the `scheduled` queue: ids only (a batch of follow-ups: all their ids). */
export interface ScheduledJobData {
  scheduleId: string;
  corpId: string;
  kind: string;
  scheduleIds?: string[];
}

/**
 * Follow-ups of one corp due at the same moment go into one job of at most this many
 * (docs/tasks.md): the worker creates their tasks with a few commands for the whole batch.
 */
export const FOLLOW_UP_BATCH = 100;

/** Deterministic job id of a schedule (no `:`, never all digits). */
export { scheduleJobId };

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

/** Batches one sweep pass reads with one cursor before it looks again (bounds what one query holds). */
const BATCHES_PER_PAGE = 8;

type DueSchedule = { _id: Types.ObjectId; corpId: string; kind: string; dueAt: Date };
type ScheduledQueue = ReturnType<Queues['get']>;

/**
 * The minute sweep (docs/architecture.md §6): moves planned schedules due within the window into the
 * `scheduled` queue in bulk with deterministic job ids (one corp's follow-ups due at the same
 * moment together, `FOLLOW_UP_BATCH` a job: docs/tasks.md), then marks them `enqueued`. Enqueue
 * happens first, so a crash in between leaves them `planned`; the next run adds the same job ids
 * again, which BullMQ ignores while the job exists, and the executor skips a schedule that
 * already fired. `enqueued` schedules whose job vanished (Redis lost data) are enqueued again.
 *
 * Throughput: a page of several batches is read through one cursor (an index walk on
 * `{status, dueAt}`), batch by batch, the next batch's read in flight while the current one is
 * added to Redis; each batch is one `addBulk` and one `updateMany`, and the marking of a batch
 * runs while the next batch is added. A batch is only marked after its own `addBulk` resolved,
 * so the crash guarantee above holds per batch. The recovery of vanished jobs reads only
 * schedules marked more than `staleMs` ago, which this pass never touches (it marks with
 * `now`), so it runs beside the pass instead of after it.
 */
export async function runSweep(opts: SweepOptions): Promise<{ enqueued: number; recovered: number }> {
  const batchSize = opts.batchSize ?? 500;
  const queue = opts.queues.get(QueueName.scheduled);
  const collection = await schedules();
  let recovery: Promise<number> | undefined;
  const startRecovery = (): void => {
    if (recovery) return;
    recovery = recoverVanished(opts, queue);
    recovery.catch(() => undefined); // awaited below; must not count as unhandled while the pass runs
  };
  let enqueued = 0;
  try {
    for (;;) {
      const page = await sweepPage(opts, queue, collection, batchSize, startRecovery);
      enqueued += page;
      if (page < batchSize * BATCHES_PER_PAGE) break;
    }
  } finally {
    // Never leave the recovery in flight (or its rejection unobserved) when the pass fails.
    await recovery?.catch(() => undefined);
  }
  const recovered = await (recovery ?? recoverVanished(opts, queue));
  // Every minute: only a sweep that moved something is worth a line at info.
  if (enqueued > 0 || recovered > 0) opts.log?.info({ enqueued, recovered }, 'schedule sweep done');
  else opts.log?.debug({ enqueued, recovered }, 'schedule sweep done');
  return { enqueued, recovered };
}

/**
 * The driver's collection of schedules. Why not the model: mongoose's query cursor costs a few
 * promises per document, and its collection wrapper answers a promise instead of a cursor while
 * it buffers before the first connection; the filter below needs no schema casting.
 */
async function schedules(): Promise<Collection<DueSchedule>> {
  const conn = ScheduleModel.db;
  const db = conn.db ?? (await conn.asPromise()).db;
  if (!db) throw new Error('schedule sweep: MongoDB connection has no database');
  return db.collection<DueSchedule>(ScheduleModel.collection.collectionName);
}

/** Up to `n` documents of the cursor (fewer only at its end). */
async function readBatch(cursor: FindCursor<DueSchedule>, n: number): Promise<DueSchedule[]> {
  const out: DueSchedule[] = [];
  while (out.length < n && (await cursor.hasNext())) out.push(...cursor.readBufferedDocuments(n - out.length));
  return out;
}

/**
 * Reads one page of due schedules batch by batch and enqueues each, marking it (without waiting)
 * once it is in Redis. `started` is called once the first batch is read (the database is then
 * free for the recovery's query while Redis works). Returns how many schedules the page held.
 */
async function sweepPage(
  opts: SweepOptions,
  queue: ScheduledQueue,
  collection: Collection<DueSchedule>,
  batchSize: number,
  started: () => void,
): Promise<number> {
  const horizon = new Date(opts.now.getTime() + (opts.windowMs ?? 60_000));
  const cursor = collection.find(
    { status: 'planned', dueAt: { $lte: horizon } },
    {
      projection: { _id: 1, corpId: 1, kind: 1, dueAt: 1 },
      // corpId second: a corp's follow-ups due at one moment come together and fill whole
      // batches; in due order alone, 200 corps due at 10:00 interleave and a batch of 500 read
      // held 2–3 per corp (the index { status, dueAt, corpId } serves this order).
      sort: { dueAt: 1, corpId: 1 },
      limit: batchSize * BATCHES_PER_PAGE,
      batchSize,
    },
  );
  const marks: Array<Promise<unknown>> = [];
  let next: Promise<DueSchedule[]> = readBatch(cursor, batchSize);
  let read = 0;
  let failure: { error: unknown } | undefined;
  try {
    for (;;) {
      const batch = await next;
      if (batch.length === 0) break;
      read += batch.length;
      started();
      next = readBatch(cursor, batchSize);
      // The read ahead is awaited (or dropped with the cursor) below; it must not reject unobserved meanwhile.
      next.catch(() => undefined);
      const groups = jobGroups(batch);
      await queue.addBulk(groups.map((g) => scheduledJob(g, opts.now)));
      await opts.afterEnqueue?.();
      const mark = markEnqueued(groups, opts.now);
      mark.catch(() => undefined); // settled below; must not count as unhandled while later batches run
      marks.push(mark);
    }
  } catch (error) {
    failure = { error };
  }
  await cursor.close().catch(() => undefined);
  // Never leave a mark in flight (or its rejection unobserved) when an enqueue fails.
  const settled = await Promise.allSettled(marks);
  if (failure) throw failure.error;
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return read;
}

/**
 * The jobs of a read batch: each schedule its own job, except `follow_up` schedules of one corp
 * due at the same moment, which go together in jobs of up to `FOLLOW_UP_BATCH` (docs/tasks.md).
 * A group of one is the schedule's own job. `jobId` is set for a batch of several only.
 */
function jobGroups(batch: DueSchedule[]): Array<{ schedules: DueSchedule[]; jobId?: string }> {
  const groups: Array<{ schedules: DueSchedule[]; jobId?: string }> = [];
  const open = new Map<string, DueSchedule[]>();
  for (const s of batch) {
    if (s.kind !== 'follow_up') {
      groups.push({ schedules: [s] });
      continue;
    }
    const key = `${s.corpId}\u0000${s.dueAt.getTime()}`;
    let group = open.get(key);
    if (!group || group.length >= FOLLOW_UP_BATCH) {
      group = [];
      open.set(key, group);
      groups.push({ schedules: group });
    }
    group.push(s);
  }
  for (const g of groups)
    if (g.schedules.length > 1) g.jobId = scheduleBatchJobId(g.schedules.map((s) => s._id.toHexString()));
  return groups;
}

/** The `addBulk` entry of a group of due schedules: ids only, delayed to their exact due time. */
function scheduledJob(group: { schedules: DueSchedule[] }, now: Date) {
  const [s] = group.schedules as [DueSchedule, ...DueSchedule[]];
  const data: ScheduledJobData = {
    scheduleId: s._id.toHexString(),
    corpId: s.corpId,
    kind: s.kind,
    ...(group.schedules.length > 1 ? { scheduleIds: group.schedules.map((x) => x._id.toHexString()) } : {}),
  };
  return scheduleJobs[s.kind as ScheduleKind].bulkEntry(data, {
    delay: Math.max(0, s.dueAt.getTime() - now.getTime()),
  });
}

/**
 * Marks a batch `planned` → `enqueued`, sent at once (a mongoose query runs only when awaited,
 * which would hold every mark back until the page is done): one statement for the schedules in
 * jobs of their own (the job id is derived from the schedule id, `scheduleJobId`), one per batch
 * job (its id stored, so the recovery finds the job).
 */
function markEnqueued(groups: Array<{ schedules: DueSchedule[]; jobId?: string }>, now: Date): Promise<unknown> {
  const single = groups.filter((g) => !g.jobId).flatMap((g) => g.schedules.map((s) => s._id));
  const marks: Array<Promise<unknown>> = [];
  if (single.length > 0)
    marks.push(
      ScheduleModel.updateMany(
        { _id: { $in: single }, status: 'planned' },
        { $set: { status: 'enqueued', enqueuedAt: now }, $unset: { jobId: 1 } },
      ).exec(),
    );
  for (const g of groups)
    if (g.jobId)
      marks.push(
        ScheduleModel.updateMany(
          { _id: { $in: g.schedules.map((s) => s._id) }, status: 'planned' },
          { $set: { status: 'enqueued', enqueuedAt: now, jobId: g.jobId } },
        ).exec(),
      );
  return Promise.all(marks);
}

async function recoverVanished(opts: SweepOptions, queue: ScheduledQueue): Promise<number> {
  const staleBefore = new Date(opts.now.getTime() - (opts.staleMs ?? 10 * 60_000));
  const stale = await ScheduleModel.find(
    { status: 'enqueued', enqueuedAt: { $lt: staleBefore } },
    { _id: 1, corpId: 1, kind: 1, jobId: 1 },
  )
    .limit(opts.batchSize ?? 500)
    .lean();
  let recovered = 0;
  for (const s of stale) {
    const job = scheduleJobs[s.kind as ScheduleKind];
    const data: ScheduledJobData = { scheduleId: String(s._id), corpId: s.corpId, kind: s.kind };
    // A batch job still in Redis (waiting behind a backlog) holds the schedule: not vanished.
    if (s.jobId && (await queue.getJob(s.jobId))) continue;
    if (await queue.getJob(scheduleJobId(data.scheduleId))) continue;
    await job.enqueue(opts.queues, data);
    await ScheduleModel.updateOne({ _id: s._id, status: 'enqueued' }, { $set: { enqueuedAt: opts.now } });
    recovered++;
  }
  return recovered;
}

/**
 * Runs the sweep under a Redis lock so only one run happens at a time across all workers (the
 * job scheduler makes one job per minute, but a slow run must not overlap the next).
 */
export async function runSweepExclusive(
  redis: Redis,
  prefix: string,
  opts: SweepOptions,
): Promise<{ enqueued: number; recovered: number } | { skipped: true }> {
  const lockKey = `${prefix}:lock:schedule-sweep`;
  const token = `${process.pid}-${opts.now.getTime()}-${Math.random()}`;
  const got = await redis.set(lockKey, token, 'PX', 120_000, 'NX');
  if (got !== 'OK') return { skipped: true };
  try {
    return await runSweep(opts);
  } finally {
    await redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
      1,
      lockKey,
      token,
    );
  }
}
