import { Types } from 'mongoose';
import { canAccessCorp, corpFilter, type Principal } from '../../domain/auth/principal.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { CorpModel } from '../../domain/corps/corp.model.js';
import { parseStoredTaskSettings, type TaskSettings } from '../../domain/tasks/task-settings.js';
import { TaskModel, type TaskLean } from '../../domain/tasks/task.model.js';
import { ForbiddenError, NotFoundError } from '../../infra/errors.js';

/**
 * Which tasks a principal sees (docs/architecture.md §5, object level): advisors their own, managers those of
 * advisors in the departments they lead, corp-wide roles everything in their corps.
 */
export async function taskScopeFilter(p: Principal): Promise<Record<string, unknown>> {
  const base = corpFilter(p);
  if (p.role === 'advisor') return { ...base, advisorUserid: p.userid ?? '\u0000' };
  if (p.role === 'manager') return { ...base, advisorUserid: { $in: await managedAdvisors(p) } };
  return base;
}

/** Userids in the manager's departments (the manager included). */
export async function managedAdvisors(p: Principal): Promise<string[]> {
  const rows = await AdvisorModel.find({ ...corpFilter(p), departments: { $in: [...(p.departments ?? [])] } }, { userid: 1 }).lean();
  return [...rows.map((r) => r.userid), ...(p.userid ? [p.userid] : [])];
}

/** One task the principal may see, else 404 (existence elsewhere is not revealed). */
export async function findScopedTask(p: Principal, id: string): Promise<TaskLean> {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError(`no task ${id}`, 'task_not_found');
  const task = (await TaskModel.findOne({ _id: new Types.ObjectId(id), ...(await taskScopeFilter(p)) }).lean()) as TaskLean | null;
  if (!task || !canAccessCorp(p, task.corpId)) throw new NotFoundError(`no task ${id}`, 'task_not_found');
  return task;
}

/** A reassignment target must be an active member of the same corp (and, for managers, of their departments). */
export async function assertReassignable(p: Principal, corpId: string, userid: string): Promise<void> {
  const advisor = await AdvisorModel.findOne({ corpId, userid, status: 'active' }, { departments: 1 }).lean();
  if (!advisor) throw new NotFoundError(`no active member ${userid} in corp ${corpId}`, 'advisor_not_found');
  if (p.role === 'manager' && !advisor.departments.some((d) => (p.departments ?? []).includes(d))) throw new ForbiddenError(`${userid} is not in your departments`, 'advisor_forbidden');
}

/** The corp's time zone and task settings (defaults filled). */
export async function corpTaskSettings(corpId: string, defaultTimezone: string): Promise<{ timeZone: string; settings: TaskSettings }> {
  const corp = await CorpModel.findOne({ corpId }, { timezone: 1, tasks: 1 }).lean();
  return { timeZone: corp?.timezone ?? defaultTimezone, settings: parseStoredTaskSettings(corp?.tasks) };
}
