import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import type { Queues } from '../../queues/queue-factory.js';
import { QueueName } from '../../queues/queue-names.js';
import { useTestStores } from '../../testing/stores.js';
import { ScheduleModel } from './schedule.model.js';
import {
  cancelCustomerSchedules,
  markScheduleFired,
  planSchedule,
  rehomeCustomerSchedules,
  type PlanInput,
} from './schedule.service.js';
import { FOLLOW_UP_BATCH, runSweep, scheduleJobId } from './sweep.js';

/**
 * Schedules in MongoDB and the minute sweep that moves due ones into Redis (docs/architecture.md
 * §6), directly: real Redis with a queue prefix of this file's own, the dev MongoDB server.
 */
let queues: Queues;
useTestStores('schedules', (stores) => (queues = stores.queues));

const T0 = new Date('2026-06-01T02:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
let seq = 0;
function plan(over: Partial<PlanInput> = {}): PlanInput {
  seq += 1;
  return {
    corpId: 'wwSched',
    customerId: new Types.ObjectId(),
    kind: 'follow_up',
    occurrenceId: `occ-${seq}`,
    dueAt: at(30_000),
    advisorUserid: 'zhangwei',
    ...over,
  };
}

describe('planning', () => {
  it('plans the same occurrence once, and a re-plan moves its time', async () => {
    const input = plan({ dueAt: at(86_400_000) });
    const first = await planSchedule(input);
    expect(first.planned).toBe(true);
    const moved = await planSchedule({ ...input, dueAt: at(2 * 86_400_000) });
    expect(moved).toEqual(first);
    expect(await ScheduleModel.countDocuments({ occurrenceId: input.occurrenceId })).toBe(1);
    expect((await ScheduleModel.findById(first.id).lean())?.dueAt).toEqual(at(2 * 86_400_000));
  });

  it('stores a plan as the model would: its types, timestamps, defaults, no field for an absent value', async () => {
    const input = plan({ payload: { title: '回访', sla: undefined } });
    const { id } = await planSchedule(input);
    const raw = await ScheduleModel.collection.findOne({ _id: new Types.ObjectId(id) });
    expect(raw).toMatchObject({
      key: expect.any(String),
      corpId: 'wwSched',
      customerId: input.customerId,
      kind: 'follow_up',
      occurrenceId: input.occurrenceId,
      dueAt: input.dueAt,
      status: 'planned',
      advisorUserid: 'zhangwei',
      payload: { title: '回访' },
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    for (const absent of ['ruleId', 'ruleVersion', 'actionIndex', 'anchor']) expect(raw).not.toHaveProperty(absent);
    expect(raw?.payload).not.toHaveProperty('sla');
    // The model reads it back as any other schedule.
    await expect(ScheduleModel.hydrate(raw).validate()).resolves.toBeUndefined();
  });

  it('never re-opens an occurrence that fired', async () => {
    const input = plan();
    const { id } = await planSchedule(input);
    await markScheduleFired(id, T0);
    await expect(planSchedule({ ...input, dueAt: at(999_000) })).resolves.toEqual({ id, planned: false });
    expect((await ScheduleModel.findById(id).lean())?.status).toBe('fired');
  });

  it('cancels a customer’s planned schedules (optionally one advisor’s) and moves them to another advisor', async () => {
    const customerId = new Types.ObjectId();
    const mine = await planSchedule(plan({ customerId, advisorUserid: 'lina' }));
    const theirs = await planSchedule(plan({ customerId, advisorUserid: 'chenjing' }));
    await expect(rehomeCustomerSchedules('wwSched', String(customerId), 'chenjing', 'wangqiang')).resolves.toBe(1);
    expect((await ScheduleModel.findById(theirs.id).lean())?.advisorUserid).toBe('wangqiang');
    await expect(cancelCustomerSchedules('wwSched', String(customerId), 'customer_lost', T0, 'lina')).resolves.toBe(1);
    expect(await ScheduleModel.findById(mine.id).lean()).toMatchObject({
      status: 'cancelled',
      cancelReason: 'customer_lost',
    });
    expect((await ScheduleModel.findById(theirs.id).lean())?.status).toBe('planned');
  });
});

describe('the minute sweep', () => {
  it('enqueues what falls due within the window under a deterministic id, once', async () => {
    await ScheduleModel.deleteMany({});
    const due = await planSchedule(plan({ dueAt: at(20_000) }));
    const later = await planSchedule(plan({ dueAt: at(3_600_000) }));
    await expect(runSweep({ queues, now: T0, windowMs: 60_000 })).resolves.toMatchObject({ enqueued: 1 });
    const job = await queues.get(QueueName.scheduled).getJob(scheduleJobId(due.id));
    expect(job?.data).toEqual({ scheduleId: due.id, corpId: 'wwSched', kind: 'follow_up' });
    expect(job?.opts.delay).toBe(20_000);
    expect((await ScheduleModel.findById(due.id).lean())?.status).toBe('enqueued');
    expect((await ScheduleModel.findById(later.id).lean())?.status).toBe('planned');
    // The next pass finds nothing new.
    await expect(runSweep({ queues, now: at(1000), windowMs: 60_000 })).resolves.toMatchObject({ enqueued: 0 });
  });

  it('a crash between enqueue and marking leaves the schedule planned; the next pass adds the same job id', async () => {
    await ScheduleModel.deleteMany({});
    const s = await planSchedule(plan({ dueAt: at(5_000) }));
    const crash = runSweep({ queues, now: T0, afterEnqueue: () => Promise.reject(new Error('crash before marking')) });
    await expect(crash).rejects.toThrow('crash before marking');
    expect((await ScheduleModel.findById(s.id).lean())?.status).toBe('planned');
    await runSweep({ queues, now: T0 });
    expect((await ScheduleModel.findById(s.id).lean())?.status).toBe('enqueued');
    const jobs = await queues.get(QueueName.scheduled).getJobs(['delayed', 'waiting']);
    expect(jobs.filter((j) => (j.data as { scheduleId?: string }).scheduleId === s.id)).toHaveLength(1);
  });

  it('re-enqueues an enqueued schedule whose job vanished (Redis lost it)', async () => {
    await ScheduleModel.deleteMany({});
    const s = await planSchedule(plan({ dueAt: at(5_000) }));
    await runSweep({ queues, now: T0 });
    await (await queues.get(QueueName.scheduled).getJob(scheduleJobId(s.id)))?.remove();
    const result = await runSweep({ queues, now: at(11 * 60_000) });
    expect(result.recovered).toBe(1);
    expect(await queues.get(QueueName.scheduled).getJob(scheduleJobId(s.id))).toBeDefined();
  });

  it('puts one corp’s follow-ups due together into batch jobs of at most FOLLOW_UP_BATCH; the recovery finds the batch job', async () => {
    await ScheduleModel.deleteMany({});
    const together = await Promise.all(
      Array.from({ length: FOLLOW_UP_BATCH + 2 }, () => planSchedule(plan({ dueAt: at(10_000) }))),
    );
    const otherCorp = await planSchedule(plan({ corpId: 'wwOther', dueAt: at(10_000) }));
    const otherTime = await planSchedule(plan({ dueAt: at(20_000) }));
    await expect(runSweep({ queues, now: T0 })).resolves.toMatchObject({ enqueued: FOLLOW_UP_BATCH + 4 });
    const queue = queues.get(QueueName.scheduled);
    const jobs = await queue.getJobs(['delayed', 'waiting']);
    const ids = together.map((t) => t.id);
    // Two jobs hold the corp's 102 due at 10 s: every schedule in exactly one of them.
    const batches = jobs.filter((j) =>
      (j.data as { scheduleIds?: string[] }).scheduleIds?.some((id) => ids.includes(id)),
    );
    expect(batches.map((j) => (j.data as { scheduleIds: string[] }).scheduleIds.length).sort((a, b) => a - b)).toEqual([
      2,
      FOLLOW_UP_BATCH,
    ]);
    expect(batches.flatMap((j) => (j.data as { scheduleIds: string[] }).scheduleIds).sort()).toEqual([...ids].sort());
    // A schedule alone at its time, or alone for its corp, is its own job as before.
    expect(await queue.getJob(scheduleJobId(otherCorp.id))).toBeDefined();
    expect(await queue.getJob(scheduleJobId(otherTime.id))).toBeDefined();
    const marked = await ScheduleModel.find({ _id: { $in: ids } }, { jobId: 1, status: 1 }).lean();
    expect(new Set(marked.map((m) => m.jobId))).toEqual(new Set(batches.map((j) => j.id)));
    expect(marked.every((m) => m.status === 'enqueued')).toBe(true);
    // Still in Redis after 11 minutes (a backlog): not vanished. Once lost: each schedule its own job again.
    await expect(runSweep({ queues, now: at(11 * 60_000) })).resolves.toMatchObject({ recovered: 0 });
    const small = batches.find((j) => (j.data as { scheduleIds: string[] }).scheduleIds.length === 2);
    await small?.remove();
    await expect(runSweep({ queues, now: at(22 * 60_000) })).resolves.toMatchObject({ recovered: 2 });
    for (const id of (small?.data as { scheduleIds: string[] }).scheduleIds)
      expect(await queue.getJob(scheduleJobId(id))).toBeDefined();
  });

  it('reads due schedules corp by corp, so corps due at the same moment still fill whole batches', async () => {
    await ScheduleModel.deleteMany({});
    const corps = ['wwA', 'wwB', 'wwC'];
    // Planned interleaved (A, B, C, A, B, C, ...), as adds across a network arrive.
    for (let i = 0; i < 6; i++) for (const corpId of corps) await planSchedule(plan({ corpId, dueAt: at(10_000) }));
    // Reads of 6: in due order alone each read would hold two of every corp.
    await expect(runSweep({ queues, now: T0, batchSize: 6 })).resolves.toMatchObject({ enqueued: 18 });
    const jobs = (await queues.get(QueueName.scheduled).getJobs(['delayed', 'waiting'])).filter((j) =>
      corps.includes((j.data as { corpId: string }).corpId),
    );
    const sizes = jobs.map((j) => (j.data as { scheduleIds?: string[] }).scheduleIds?.length ?? 1);
    expect(sizes).toEqual([6, 6, 6]);
    expect(new Set(jobs.map((j) => (j.data as { corpId: string }).corpId))).toEqual(new Set(corps));
  });
});
