import { Types } from 'mongoose';
import { ForbiddenError, NotFoundError } from '../../infra/errors.js';
import { canAccessCorp, corpFilter, type Principal } from '../auth/principal.js';
import { CorpModel } from '../corps/corp.model.js';
import { activeAdvisorDepartments, advisorsInDepartment, managedAdvisors } from '../customers/advisor-queries.js';
import { parseStoredTaskSettings, type TaskSettings } from './task-settings.js';
import { TaskModel, type TaskLean, type TaskStatus } from './task.model.js';

export { TASK_OUTCOMES, TASK_STATUSES } from './task.model.js';

/**
 * Task queries the admin API (list, CSV export, one task), the console and the CLIs share
 * (docs/architecture.md §10: routes call these, never the task model). Every read goes through
 * the principal's object-level scope (docs/architecture.md §5).
 */

/**
 * Which tasks a principal sees: advisors their own, managers those of advisors in the departments
 * they lead, corp-wide roles everything in their corps.
 */
export async function taskScopeFilter(p: Principal): Promise<Record<string, unknown>> {
  const base = corpFilter(p);
  if (p.role === 'advisor') return { ...base, advisorUserid: p.userid ?? '\u0000' };
  if (p.role === 'manager') return { ...base, advisorUserid: { $in: await managedAdvisors(p) } };
  return base;
}

/** One task the principal may see, else 404 (existence elsewhere is not revealed). */
export async function findScopedTask(p: Principal, id: string): Promise<TaskLean> {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError(`no task ${id}`, 'task_not_found');
  const task = (await TaskModel.findOne({
    _id: new Types.ObjectId(id),
    ...(await taskScopeFilter(p)),
  }).lean()) as TaskLean | null;
  if (!task || !canAccessCorp(p, task.corpId)) throw new NotFoundError(`no task ${id}`, 'task_not_found');
  return task;
}

/** A reassignment target must be an active member of the same corp (and, for managers, of their departments). */
export async function assertReassignable(p: Principal, corpId: string, userid: string): Promise<void> {
  const departments = await activeAdvisorDepartments(corpId, userid);
  if (!departments) throw new NotFoundError(`no active member ${userid} in corp ${corpId}`, 'advisor_not_found');
  if (p.role === 'manager' && !departments.some((d) => (p.departments ?? []).includes(d)))
    throw new ForbiddenError(`${userid} is not in your departments`, 'advisor_forbidden');
}

/** The corp's time zone and task settings (defaults filled). */
export async function corpTaskSettings(
  corpId: string,
  defaultTimezone: string,
): Promise<{ timeZone: string; settings: TaskSettings }> {
  const corp = await CorpModel.findOne({ corpId }, { timezone: 1, tasks: 1 }).lean();
  return { timeZone: corp?.timezone ?? defaultTimezone, settings: parseStoredTaskSettings(corp?.tasks) };
}

/** The filters of a task list or export, already parsed (the route's zod schema). */
export interface TaskListFilter {
  corpId?: string;
  /** WeCom department id: tasks of the advisors in it. */
  department?: number;
  advisor?: string;
  status?: TaskStatus;
  overdue?: boolean;
  /** ISO date-times. */
  dueFrom?: string;
  dueTo?: string;
  ruleId?: string;
  /** Cursor: tasks with a smaller id (lists are newest first). */
  before?: string;
}

/** The MongoDB filter for a list: the principal's scope, narrowed by every given filter. */
export async function taskListFilter(p: Principal, q: TaskListFilter, now: Date): Promise<Record<string, unknown>> {
  const filter: Record<string, unknown> = { ...(await taskScopeFilter(p)) };
  const and: Record<string, unknown>[] = [];
  if (q.corpId) and.push({ corpId: q.corpId });
  if (q.advisor) and.push({ advisorUserid: q.advisor });
  if (q.department !== undefined)
    and.push({ advisorUserid: { $in: await advisorsInDepartment(p, q.department, q.corpId) } });
  if (q.status) and.push({ status: q.status });
  if (q.ruleId) and.push({ ruleId: new Types.ObjectId(q.ruleId) });
  if (q.dueFrom || q.dueTo)
    and.push({
      dueAt: { ...(q.dueFrom ? { $gte: new Date(q.dueFrom) } : {}), ...(q.dueTo ? { $lt: new Date(q.dueTo) } : {}) },
    });
  if (q.overdue !== undefined)
    and.push(
      q.overdue
        ? { status: 'open', dueAt: { $lt: now } }
        : { $or: [{ status: { $ne: 'open' } }, { dueAt: { $gte: now } }] },
    );
  if (q.before) and.push({ _id: { $lt: new Types.ObjectId(q.before) } });
  if (and.length) filter.$and = and;
  return filter;
}

/** One page of tasks (without history), newest first. */
export async function findTaskPage(p: Principal, q: TaskListFilter, limit: number, now: Date): Promise<TaskLean[]> {
  const filter = await taskListFilter(p, q, now);
  return (await TaskModel.find(filter, { history: 0 }).sort({ _id: -1 }).limit(limit).lean()) as unknown as TaskLean[];
}

/** At most this many rows go into one CSV export. */
export const TASK_EXPORT_LIMIT = 50_000;

/** Every matching task (without history) for an export, by due date. */
export async function tasksForExport(p: Principal, q: TaskListFilter, now: Date): Promise<TaskLean[]> {
  const filter = await taskListFilter(p, q, now);
  return (await TaskModel.find(filter, { history: 0 })
    .sort({ dueAt: 1 })
    .limit(TASK_EXPORT_LIMIT)
    .lean()) as unknown as TaskLean[];
}

/** The open tasks of one advisor a principal may move (optionally only `taskIds`), earliest due first. */
export async function openTasksToMove(
  p: Principal,
  corpId: string,
  advisorUserid: string,
  limit: number,
  taskIds?: readonly string[],
): Promise<string[]> {
  const mine = { corpId, advisorUserid, status: 'open' as const };
  const only = taskIds ? [{ _id: { $in: taskIds.map((id) => new Types.ObjectId(id)) } }] : [];
  const picked = await TaskModel.find({ $and: [await taskScopeFilter(p), mine, ...only] }, { _id: 1 })
    .sort({ dueAt: 1 })
    .limit(limit)
    .lean();
  return picked.map((t) => String(t._id));
}

/** How many open tasks an advisor still has. */
export async function countOpenTasks(corpId: string, advisorUserid: string): Promise<number> {
  return TaskModel.countDocuments({ corpId, advisorUserid, status: 'open' });
}
