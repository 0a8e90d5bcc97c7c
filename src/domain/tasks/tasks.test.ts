import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { createLogger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import { useTestStores } from '../../testing/stores.js';
import { parseCommand } from './task-commands.js';
import { defaultTaskSettings } from './task-settings.js';
import { TaskModel, type TaskLean } from './task.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { ScheduleModel } from '../schedules/schedule.model.js';
import { planSchedule } from '../schedules/schedule.service.js';
import { applyTaskAction, createTaskFromSchedule, createTasksFromSchedules, isOnTime } from './task.service.js';
import { inWorkingHours, nextWorkingTime } from './working-hours.js';

/**
 * The task services directly (docs/tasks.md): working hours, member commands, and the outcomes of
 * task actions against the dev MongoDB server and real Redis (the outbox relays to a queue).
 */
const ZONE = 'Asia/Shanghai';
const HOURS = { start: '09:00', end: '18:00' };
const local = (iso: string) => new Date(`${iso}+08:00`);

describe('working hours', () => {
  it('knows inside from outside, [start, end) in the corp’s zone, also across midnight', () => {
    expect(inWorkingHours(local('2026-06-01T10:00:00'), HOURS, ZONE)).toBe(true);
    expect(inWorkingHours(local('2026-06-01T18:00:00'), HOURS, ZONE)).toBe(false);
    expect(inWorkingHours(local('2026-06-01T08:59:00'), HOURS, ZONE)).toBe(false);
    expect(inWorkingHours(local('2026-06-01T23:30:00'), { start: '22:00', end: '06:00' }, ZONE)).toBe(true);
    expect(inWorkingHours(local('2026-06-01T12:00:00'), { start: '22:00', end: '06:00' }, ZONE)).toBe(false);
  });

  it('moves a time outside working hours to the next start, today or tomorrow', () => {
    expect(nextWorkingTime(local('2026-06-01T10:00:00'), HOURS, ZONE)).toEqual(local('2026-06-01T10:00:00'));
    expect(nextWorkingTime(local('2026-06-01T07:00:00'), HOURS, ZONE)).toEqual(local('2026-06-01T09:00:00'));
    expect(nextWorkingTime(local('2026-06-01T20:00:00'), HOURS, ZONE)).toEqual(local('2026-06-02T09:00:00'));
  });
});

describe('member commands', () => {
  it('reads list, complete with an outcome, and anything else as help', () => {
    expect(parseCommand('任务')).toEqual({ type: 'list' });
    expect(parseCommand('/tasks')).toEqual({ type: 'list' });
    expect(parseCommand('完成 3 预约')).toEqual({ type: 'complete', n: 3, outcome: 'appointment_booked' });
    expect(parseCommand('done 2')).toEqual({ type: 'complete', n: 2, outcome: 'contacted' });
    expect(parseCommand('完成2 客户婉拒')).toEqual({ type: 'complete', n: 2, outcome: 'customer_declined' });
    expect(parseCommand('你好')).toEqual({ type: 'help' });
  });
});

describe('task actions', () => {
  const CORP = 'wwTasks';
  let queues: Queues;
  useTestStores('tasks', (stores) => (queues = stores.queues));
  const clock = new ManualClock(local('2026-06-01T10:00:00').getTime());
  const deps = () => ({
    corpId: CORP,
    timeZone: ZONE,
    settings: { ...defaultTaskSettings, workingHours: HOURS },
    clock,
    queues,
    logger: createLogger({ level: 'silent', name: 'test' }),
  });

  async function openTask(advisorUserid = 'zhangwei'): Promise<string> {
    const dueAt = clock.now();
    const t = await TaskModel.create({
      corpId: CORP,
      customerId: new Types.ObjectId(),
      advisorUserid,
      title: '首保邀约',
      dueAt,
      slaMs: 48 * 3_600_000,
      remindAt: dueAt,
      ladder: { escalateAfterMs: 24 * 3_600_000, flagAfterMs: 72 * 3_600_000 },
    });
    return String(t._id);
  }

  it('completes an open task once: a repeated click changes nothing', async () => {
    const id = await openTask();
    const done = await applyTaskAction(deps(), id, { type: 'complete', outcome: 'appointment_booked' }, 'api:boss');
    expect(done.changed).toBe(true);
    expect(done.task).toMatchObject({ status: 'done', outcome: 'appointment_booked', notifyPending: false });
    expect(done.task?.history.at(-1)).toMatchObject({ actor: 'api:boss', action: 'completed' });
    expect(isOnTime(done.task as TaskLean)).toBe(true);
    const again = await applyTaskAction(deps(), id, { type: 'complete', outcome: 'contacted' }, 'api:boss');
    expect(again.changed).toBe(false);
    expect(again.task?.outcome).toBe('appointment_booked');
    await expect(applyTaskAction(deps(), id, { type: 'unreachable' }, 'api:boss')).resolves.toMatchObject({
      changed: false,
    });
  });

  it('snoozes to the next working time after the given days', async () => {
    const id = await openTask();
    clock.set(local('2026-06-01T19:00:00').getTime());
    const out = await applyTaskAction(deps(), id, { type: 'snooze', days: 1 }, 'wecom:zhangwei');
    expect(out.changed).toBe(true);
    // 19:00 + 1 day is after hours: the next start, 09:00 on the 3rd.
    expect(out.task?.remindAt).toEqual(local('2026-06-03T09:00:00'));
    expect(out.task?.status).toBe('open');
    clock.set(local('2026-06-01T10:00:00').getTime());
  });

  it('reassigns to another member with a history entry, and ignores a reassignment to the same member', async () => {
    const id = await openTask('zhangwei');
    await expect(applyTaskAction(deps(), id, { type: 'reassign', to: 'zhangwei' }, 'api:boss')).resolves.toMatchObject({
      changed: false,
    });
    const moved = await applyTaskAction(deps(), id, { type: 'reassign', to: 'lina' }, 'api:boss');
    expect(moved.changed).toBe(true);
    expect(moved.task).toMatchObject({ advisorUserid: 'lina', notifyPending: true });
    expect(moved.task?.history.at(-1)).toMatchObject({
      action: 'reassigned',
      detail: { from: 'zhangwei', to: 'lina' },
    });
  });

  it('leaves a broadcast confirmation open when someone completes it by hand: it closes when WeCom reports the send', async () => {
    const id = await openTask('lina');
    await TaskModel.updateOne({ _id: id }, { $set: { kind: 'broadcast_confirm' }, $unset: { customerId: 1 } });
    for (const action of [{ type: 'complete', outcome: 'contacted' }, { type: 'unreachable' }] as const)
      await expect(applyTaskAction(deps(), id, action, 'wecom:lina')).resolves.toMatchObject({
        changed: false,
        task: { status: 'open' },
      });
    await expect(applyTaskAction(deps(), id, { type: 'snooze', days: 1 }, 'wecom:lina')).resolves.toMatchObject({
      changed: true,
    });
  });

  it('answers an unknown or malformed task id without a change', async () => {
    await expect(applyTaskAction(deps(), 'not-an-id', { type: 'unreachable' }, 'x')).resolves.toEqual({
      changed: false,
      task: null,
    });
    await expect(
      applyTaskAction(deps(), new Types.ObjectId().toHexString(), { type: 'unreachable' }, 'x'),
    ).resolves.toEqual({ changed: false, task: null });
  });
});

describe('follow-ups created in a batch', () => {
  const CORP = 'wwBatch';
  let queues: Queues;
  useTestStores('task-batch', (stores) => (queues = stores.queues));
  const clock = new ManualClock(local('2026-06-01T10:00:00').getTime());
  const deps = () => ({
    corpId: CORP,
    timeZone: ZONE,
    settings: { ...defaultTaskSettings, workingHours: HOURS },
    clock,
    queues,
    logger: createLogger({ level: 'silent', name: 'test' }),
  });
  let n = 0;
  const customer = async (responsibleUserid?: string) =>
    (
      await CustomerModel.create({
        corpId: CORP,
        externalUserId: `wmBatch${++n}`,
        ...(responsibleUserid ? { responsibleUserid } : {}),
      })
    )._id;
  const schedule = async (customerId: Types.ObjectId, advisorUserid?: string) =>
    (
      await planSchedule({
        corpId: CORP,
        customerId,
        kind: 'follow_up',
        occurrenceId: `batch-${++n}`,
        dueAt: local('2026-06-01T10:00:00'),
        advisorUserid,
        payload: { title: '批量回访' },
      })
    ).id;

  it('makes one task per schedule, counts one made before as existing, cancels the ones without customer or advisor', async () => {
    const withAdvisor = await Promise.all([1, 2, 3].map(async () => schedule(await customer(), 'lina')));
    const byResponsible = await schedule(await customer('chenjing'));
    const madeBefore = await schedule(await customer(), 'lina');
    const gone = await schedule(new Types.ObjectId(), 'lina');
    const noAdvisor = await schedule(await customer());
    // A job of its own already made this one's task, then stopped before marking the schedule fired.
    await createTaskFromSchedule(deps(), madeBefore);
    await ScheduleModel.updateOne({ _id: madeBefore }, { $set: { status: 'enqueued' } });
    const all = [...withAdvisor, byResponsible, madeBefore, gone, noAdvisor];
    const out = await createTasksFromSchedules(deps(), all);
    expect(out).toMatchObject({ created: 4, existing: 1, notOpen: 0, cancelled: 2 });
    expect(out.advisors.map((a) => a.advisorUserid).sort()).toEqual(['chenjing', 'lina']);
    const ids = all.map((id) => new Types.ObjectId(id));
    expect(await TaskModel.countDocuments({ scheduleId: { $in: ids } })).toBe(5);
    const task = await TaskModel.findOne({ scheduleId: new Types.ObjectId(byResponsible) }).lean();
    expect(task).toMatchObject({ corpId: CORP, advisorUserid: 'chenjing', title: '批量回访', notifyPending: true });
    expect(task?.history.map((h) => h.action)).toEqual(['created']);
    const statuses = await ScheduleModel.find({ _id: { $in: ids } }, { status: 1, cancelReason: 1 }).lean();
    expect(statuses.filter((s) => s.status === 'fired')).toHaveLength(5);
    expect(
      statuses
        .filter((s) => s.status === 'cancelled')
        .map((s) => s.cancelReason)
        .sort(),
    ).toEqual(['customer_gone', 'no_advisor']);
    // The same batch again (a retried job, or the sweep's recovery): nothing new.
    await expect(createTasksFromSchedules(deps(), all)).resolves.toMatchObject({ created: 0, notOpen: 7 });
    expect(await TaskModel.countDocuments({ scheduleId: { $in: ids } })).toBe(5);
    // Another corp's batch cannot touch these schedules.
    await expect(createTasksFromSchedules({ ...deps(), corpId: 'wwElse' }, all)).resolves.toMatchObject({
      created: 0,
      notOpen: 7,
    });
  });
});
