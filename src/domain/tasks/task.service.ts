import { Types } from 'mongoose';
import { withOutbox } from '../events/outbox.js';
import { taskCategoryOf } from '../kpis/task-category.js';
import { durationMs } from '../rules/durations.js';
import { RuleModel } from '../rules/rule.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { ScheduleModel, type ScheduleDocument } from '../schedules/schedule.model.js';
import { markScheduleFired } from '../schedules/schedule.service.js';
import type { TaskDeps } from './task-deps.js';
import { TaskModel, type TaskLean, type TaskOutcome, type TaskStatus } from './task.model.js';
import type { TaskSettings } from './task-settings.js';
import { nextWorkingTime } from './working-hours.js';

/** The follow-up action's settings as the rules engine put them in the schedule's payload (ids and settings only). */
interface FollowUpPayload {
  title?: string;
  talkTrack?: string;
  sla?: string;
  escalation?: { after?: string; to?: 'manager' | 'direct_leader'; flagAfter?: string; reassign?: boolean };
}

type Deps = Pick<TaskDeps, 'corpId' | 'timeZone' | 'settings' | 'clock' | 'queues' | 'logger'>;

export const TASK_SOURCE_PREFIX = 'task';

/** Ladder thresholds after due: the rule's, else the corp's defaults. */
function ladderOf(payload: FollowUpPayload, settings: TaskSettings) {
  const slaMs = durationMs(payload.sla ?? settings.sla);
  const escalateAfterMs = Math.max(slaMs, durationMs(payload.escalation?.after ?? settings.escalateAfter));
  const flagAfterMs = Math.max(escalateAfterMs, durationMs(payload.escalation?.flagAfter ?? settings.flagAfter));
  return {
    slaMs,
    ladder: {
      escalateAfterMs,
      flagAfterMs,
      to: payload.escalation?.to ?? 'direct_leader',
      reassign: payload.escalation?.reassign ?? settings.reassignOnFlag,
    },
  };
}

/** When ladder step `level + 1` is due (moved into working hours), or undefined after the last step. */
export function checkpointAfter(
  task: Pick<TaskLean, 'dueAt' | 'slaMs' | 'ladder'>,
  level: number,
  settings: TaskSettings,
  timeZone: string,
): Date | undefined {
  const offsets = [task.slaMs, task.ladder?.escalateAfterMs ?? task.slaMs, task.ladder?.flagAfterMs ?? task.slaMs];
  const offset = offsets[level];
  if (offset === undefined) return undefined;
  return nextWorkingTime(new Date(task.dueAt.getTime() + offset), settings.workingHours, timeZone);
}

/**
 * The fields every task opens with (docs/tasks.md): due time, SLA and ladder (the payload's, else
 * the corp's), open and owed a card at the next working moment from the due time (or now, when
 * that is past), no escalation yet and the ladder's first checkpoint.
 */
export function openTaskFields(
  deps: Pick<TaskDeps, 'settings' | 'timeZone'>,
  payload: FollowUpPayload,
  dueAt: Date,
  now: Date,
) {
  const { slaMs, ladder } = ladderOf(payload, deps.settings);
  const base = { dueAt, slaMs, ladder };
  return {
    ...base,
    status: 'open' as const,
    remindAt: nextWorkingTime(
      new Date(Math.max(dueAt.getTime(), now.getTime())),
      deps.settings.workingHours,
      deps.timeZone,
    ),
    notifyPending: true,
    escalationLevel: 0,
    nextCheckpointAt: checkpointAfter(base, 0, deps.settings, deps.timeZone),
    cardSeq: 0,
  };
}

export type CreateOutcome =
  | { outcome: 'created' | 'existing'; taskId: string; advisorUserid: string }
  | { outcome: 'not_open' | 'no_advisor' | 'cancelled' };

/** The new task of a fired `follow_up` schedule, as one schedule or a batch creates it. */
function followUpTask(
  deps: Deps,
  schedule: Pick<
    ScheduleDocument,
    'corpId' | 'ruleId' | 'ruleVersion' | 'occurrenceId' | 'customerId' | 'payload' | 'dueAt'
  > & {
    _id: Types.ObjectId;
  },
  advisor: string,
  reason: string | undefined,
  now: Date,
): Record<string, unknown> {
  const payload = (schedule.payload ?? {}) as FollowUpPayload;
  return {
    corpId: schedule.corpId,
    scheduleId: schedule._id,
    ruleId: schedule.ruleId,
    ruleVersion: schedule.ruleVersion,
    reason,
    category: taskCategoryOf(schedule.occurrenceId),
    customerId: schedule.customerId,
    advisorUserid: advisor,
    title: payload.title ?? '客户跟进',
    talkTrack: payload.talkTrack,
    ...openTaskFields(deps, payload, schedule.dueAt, now),
    history: [
      {
        at: now,
        actor: 'system',
        action: 'created',
        detail: { scheduleId: String(schedule._id), advisor, ruleVersion: schedule.ruleVersion ?? null },
      },
    ],
  };
}

/**
 * Turns a fired `follow_up` schedule into exactly one task (docs/tasks.md). The task is upserted by
 * `scheduleId` (unique index) before the schedule is marked fired, so a crash anywhere in
 * between — sweep, worker or Redis — ends, on retry or on the sweep's recovery, in the same one
 * task. A schedule cancelled meanwhile (customer lost) creates nothing.
 */
export async function createTaskFromSchedule(deps: Deps, scheduleId: string): Promise<CreateOutcome> {
  const schedule = await ScheduleModel.findById(new Types.ObjectId(scheduleId)).lean();
  if (!schedule || schedule.kind !== 'follow_up' || schedule.status === 'cancelled') return { outcome: 'not_open' };
  const now = deps.clock.now();
  const customer = await CustomerModel.findOne(
    { _id: schedule.customerId, corpId: schedule.corpId },
    { responsibleUserid: 1, lifecycle: 1 },
  ).lean();
  const advisor = schedule.advisorUserid ?? customer?.responsibleUserid ?? undefined;
  if (!customer || !advisor) {
    await ScheduleModel.updateOne(
      { _id: schedule._id, corpId: schedule.corpId, status: { $in: ['planned', 'enqueued'] } },
      { $set: { status: 'cancelled', cancelledAt: now, cancelReason: customer ? 'no_advisor' : 'customer_gone' } },
    );
    return { outcome: customer ? 'no_advisor' : 'cancelled' };
  }
  const rule = schedule.ruleId ? await RuleModel.findById(schedule.ruleId, { name: 1 }).lean() : null;
  let outcome: 'created' | 'existing' = 'existing';
  try {
    const res = await TaskModel.updateOne(
      { scheduleId: schedule._id },
      {
        $setOnInsert: followUpTask(deps, schedule, advisor, rule?.name, now),
      },
      { upsert: true },
    );
    if (res.upsertedCount > 0) outcome = 'created';
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
  }
  const task = await TaskModel.findOne({ scheduleId: schedule._id }, { _id: 1, advisorUserid: 1 }).lean();
  await markScheduleFired(scheduleId, now);
  if (!task) throw new Error(`task for schedule ${scheduleId} vanished after its upsert`);
  return { outcome, taskId: String(task._id), advisorUserid: task.advisorUserid };
}

/** What a batch of fired `follow_up` schedules became: counts, and the advisors owed a delivery. */
export interface BatchCreateOutcome {
  created: number;
  existing: number;
  /** Already fired or cancelled, not a follow-up, or not of this corp: nothing to do. */
  notOpen: number;
  /** Cancelled: the customer is gone, or has no advisor. */
  cancelled: number;
  /** Each advisor with a task of the batch (new or found), and one of their schedule ids (the notify reason). */
  advisors: Array<{ advisorUserid: string; scheduleId: string }>;
}

/** A write error's code (the driver's `WriteError` keeps it on `code`, older shapes under `err`). */
const writeErrorCode = (e: unknown): number | undefined =>
  (e as { code?: number }).code ?? (e as { err?: { code?: number } }).err?.code;

/**
 * Turns a batch of one corp's fired `follow_up` schedules into their tasks with a few commands for
 * the whole batch instead of several per schedule (docs/tasks.md, docs/scale.md §4): one read of
 * the schedules still open, one of their customers, one of their rules, one `insertMany` with
 * `ordered: false` and one `updateMany` marking them fired. Exactly once as in
 * `createTaskFromSchedule`: the unique `scheduleId` key refuses a second task (a duplicate-key item
 * means the task already exists, from an earlier attempt of this batch or from another job of the
 * same schedule), and the schedules are marked fired only after their tasks exist, so a crash in
 * between ends, on retry or on the sweep's recovery, in the same tasks.
 */
export async function createTasksFromSchedules(deps: Deps, scheduleIds: string[]): Promise<BatchCreateOutcome> {
  const ids = [...new Set(scheduleIds)].filter((id) => Types.ObjectId.isValid(id)).map((id) => new Types.ObjectId(id));
  const out: BatchCreateOutcome = { created: 0, existing: 0, notOpen: 0, cancelled: 0, advisors: [] };
  const schedules = await ScheduleModel.find({
    _id: { $in: ids },
    corpId: deps.corpId,
    kind: 'follow_up',
    status: { $in: ['planned', 'enqueued'] },
  }).lean();
  out.notOpen = ids.length - schedules.length;
  if (schedules.length === 0) return out;
  const now = deps.clock.now();
  const customerIds = [...new Set(schedules.map((s) => String(s.customerId)))].map((id) => new Types.ObjectId(id));
  const ruleIds = [...new Set(schedules.flatMap((s) => (s.ruleId ? [String(s.ruleId)] : [])))].map(
    (id) => new Types.ObjectId(id),
  );
  const [customers, rules] = await Promise.all([
    CustomerModel.find({ _id: { $in: customerIds }, corpId: deps.corpId }, { responsibleUserid: 1 }).lean(),
    ruleIds.length > 0 ? RuleModel.find({ _id: { $in: ruleIds } }, { name: 1 }).lean() : Promise.resolve([]),
  ]);
  const customerById = new Map(customers.map((c) => [String(c._id), c]));
  const ruleName = new Map(rules.map((r) => [String(r._id), r.name]));
  const gone: Types.ObjectId[] = [];
  const noAdvisor: Types.ObjectId[] = [];
  const docs: Array<Record<string, unknown>> = [];
  const advisors = new Map<string, string>();
  for (const schedule of schedules) {
    const customer = customerById.get(String(schedule.customerId));
    const advisor = schedule.advisorUserid ?? customer?.responsibleUserid ?? undefined;
    if (!customer || !advisor) {
      (customer ? noAdvisor : gone).push(schedule._id);
      continue;
    }
    if (!advisors.has(advisor)) advisors.set(advisor, String(schedule._id));
    docs.push(
      followUpTask(deps, schedule, advisor, schedule.ruleId ? ruleName.get(String(schedule.ruleId)) : undefined, now),
    );
  }
  for (const [reason, batch] of [
    ['customer_gone', gone],
    ['no_advisor', noAdvisor],
  ] as const) {
    if (batch.length === 0) continue;
    await ScheduleModel.updateMany(
      { _id: { $in: batch }, corpId: deps.corpId, status: { $in: ['planned', 'enqueued'] } },
      { $set: { status: 'cancelled', cancelledAt: now, cancelReason: reason } },
    );
    out.cancelled += batch.length;
  }
  if (docs.length === 0) return out;
  let duplicates = 0;
  try {
    await TaskModel.insertMany(docs, { ordered: false });
  } catch (err) {
    const writeErrors = (err as { writeErrors?: unknown[] }).writeErrors;
    const codes = writeErrors ? writeErrors.map(writeErrorCode) : [writeErrorCode(err)];
    if (codes.some((c) => c !== 11000)) throw err;
    duplicates = codes.length;
  }
  out.created = docs.length - duplicates;
  out.existing = duplicates;
  out.advisors = [...advisors].map(([advisorUserid, scheduleId]) => ({ advisorUserid, scheduleId }));
  await ScheduleModel.updateMany(
    { _id: { $in: docs.map((d) => d.scheduleId) }, corpId: deps.corpId, status: { $in: ['planned', 'enqueued'] } },
    { $set: { status: 'fired', firedAt: now } },
  );
  return out;
}

export type TaskAction =
  | { type: 'complete'; outcome: TaskOutcome; bookedAt?: Date }
  | { type: 'snooze'; days?: number }
  | { type: 'unreachable' }
  | { type: 'reassign'; to: string }
  | { type: 'cancel'; reason: string };

export interface ActionResult {
  /** False when the action changed nothing (a double click, a task already closed). */
  changed: boolean;
  task: TaskLean | null;
}

const CLOSED: readonly TaskStatus[] = ['done', 'unreachable', 'cancelled'];

/** Actions a `broadcast_confirm` task refuses: it is done only when WeCom reports the send confirmed. */
export function closesItself(action: TaskAction): boolean {
  return action.type === 'complete' || action.type === 'unreachable';
}

/**
 * Applies one user or system action to an open task with a conditional update (status `open`),
 * so a repeated click, command or API call changes nothing the second time. Every change is a
 * history entry with its actor. Completion emits `task.completed`.
 */
export async function applyTaskAction(
  deps: Deps,
  taskId: string,
  action: TaskAction,
  actor: string,
): Promise<ActionResult> {
  if (!Types.ObjectId.isValid(taskId)) return { changed: false, task: null };
  const _id = new Types.ObjectId(taskId);
  const now = deps.clock.now();
  const filter: Record<string, unknown> = { _id, corpId: deps.corpId, status: 'open' };
  // A broadcast confirmation closes by itself when WeCom reports the send (docs/engagement.md):
  // marking it done by hand would stop the ladder while the customers still wait.
  if (closesItself(action)) filter.kind = { $ne: 'broadcast_confirm' };
  let update: Record<string, unknown>;
  switch (action.type) {
    case 'complete':
      update = {
        $set: { status: 'done', outcome: action.outcome, completedAt: now, notifyPending: false },
        $unset: { nextCheckpointAt: 1 },
        $push: {
          history: {
            at: now,
            actor,
            action: 'completed',
            detail: {
              outcome: action.outcome,
              ...(action.bookedAt ? { bookedAt: action.bookedAt.toISOString() } : {}),
            },
          },
        },
      };
      break;
    case 'unreachable':
      update = {
        $set: { status: 'unreachable', completedAt: now, notifyPending: false },
        $unset: { nextCheckpointAt: 1 },
        $push: { history: { at: now, actor, action: 'unreachable' } },
      };
      break;
    case 'cancel':
      update = {
        $set: { status: 'cancelled', notifyPending: false },
        $unset: { nextCheckpointAt: 1 },
        $push: { history: { at: now, actor, action: 'cancelled', detail: { reason: action.reason } } },
      };
      break;
    case 'snooze': {
      const days = action.days ?? 1;
      const remindAt = nextWorkingTime(
        deps.clock.at(deps.timeZone).add(days, 'day').toDate(),
        deps.settings.workingHours,
        deps.timeZone,
      );
      update = {
        $set: { remindAt, notifyPending: true },
        $push: { history: { at: now, actor, action: 'snoozed', detail: { days, remindAt: remindAt.toISOString() } } },
      };
      break;
    }
    case 'reassign': {
      const current = await TaskModel.findOne(filter, { advisorUserid: 1, escalationLevel: 1 }).lean();
      if (!current || current.advisorUserid === action.to)
        return { changed: false, task: (await TaskModel.findById(_id).lean()) as TaskLean | null };
      const flaggedStep = current.escalationLevel >= 3;
      Object.assign(filter, { advisorUserid: current.advisorUserid });
      update = {
        $set: {
          advisorUserid: action.to,
          remindAt: nextWorkingTime(now, deps.settings.workingHours, deps.timeZone),
          notifyPending: true,
        },
        ...(flaggedStep ? { $unset: { nextCheckpointAt: 1 } } : {}),
        $push: {
          history: { at: now, actor, action: 'reassigned', detail: { from: current.advisorUserid, to: action.to } },
        },
      };
      break;
    }
  }
  // `task.completed` goes into the outbox with the change (docs/reliability.md, "Domain events: the outbox").
  const task = await withOutbox(deps, async (events) => {
    const updated = (await TaskModel.findOneAndUpdate(filter, update, {
      returnDocument: 'after',
    }).lean()) as TaskLean | null;
    if (updated && action.type === 'complete') {
      events.record({
        type: 'task.completed',
        corpId: deps.corpId,
        sourceId: `${TASK_SOURCE_PREFIX}-${taskId}`,
        occurredAt: now.toISOString(),
        // A vehicle task whose owner is not on WeCom has no customer (docs/outcomes.md).
        ...(updated.customerId ? { customerId: String(updated.customerId) } : {}),
        userid: updated.advisorUserid,
        taskId,
        data: { outcome: action.outcome, onTime: isOnTime(updated) },
      });
    }
    return updated;
  });
  if (!task)
    return { changed: false, task: (await TaskModel.findOne({ _id, corpId: deps.corpId }).lean()) as TaskLean | null };
  deps.logger.info({ corpId: deps.corpId, taskId, action: action.type, actor }, 'task changed');
  return { changed: true, task };
}

/** On time (docs/tasks.md, and every KPI): done no later than due + SLA. */
export function isOnTime(task: Pick<TaskLean, 'status' | 'completedAt' | 'dueAt' | 'slaMs'>): boolean {
  return (
    task.status === 'done' && !!task.completedAt && task.completedAt.getTime() <= task.dueAt.getTime() + task.slaMs
  );
}

export function isClosed(status: string): boolean {
  return (CLOSED as readonly string[]).includes(status);
}

/** Cancels a customer's open tasks (`customer.lost`), optionally one advisor's only. */
export async function cancelOpenTasks(
  corpId: string,
  customerId: string,
  reason: string,
  at: Date,
  advisorUserid?: string,
): Promise<number> {
  const res = await TaskModel.updateMany(
    { corpId, customerId: new Types.ObjectId(customerId), status: 'open', ...(advisorUserid ? { advisorUserid } : {}) },
    {
      $set: { status: 'cancelled', notifyPending: false },
      $unset: { nextCheckpointAt: 1 },
      $push: { history: { at, actor: 'system', action: 'cancelled', detail: { reason } } },
    },
  );
  return res.modifiedCount;
}

/**
 * Moves a customer's open tasks from one advisor to another (a transfer): the taker is told at
 * the next working moment; due time, SLA and ladder are unchanged.
 */
export async function rehomeOpenTasks(
  deps: Pick<Deps, 'settings' | 'timeZone'>,
  corpId: string,
  customerId: string,
  from: string,
  to: string,
  at: Date,
  actor = 'system',
): Promise<number> {
  const res = await TaskModel.updateMany(
    { corpId, customerId: new Types.ObjectId(customerId), status: 'open', advisorUserid: from },
    {
      $set: {
        advisorUserid: to,
        notifyPending: true,
        remindAt: nextWorkingTime(at, deps.settings.workingHours, deps.timeZone),
      },
      $push: { history: { at, actor, action: 'transferred', detail: { from, to } } },
    },
  );
  return res.modifiedCount;
}
