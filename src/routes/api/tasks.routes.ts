import Router from '@koa/router';
import { stringify } from 'csv-stringify/sync';
import type { Context } from 'koa';
import { Types } from 'mongoose';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { loadTaskView } from '../../domain/tasks/task-card.js';
import { requestNotify } from '../../domain/tasks/task-notify.js';
import { applyTaskAction, isOnTime, type TaskAction } from '../../domain/tasks/task.service.js';
import { TASK_OUTCOMES, TASK_STATUSES, TaskModel, type TaskLean } from '../../domain/tasks/task.model.js';
import { presentTask } from './task-present.js';
import { createLogger } from '../../infra/logger.js';
import { principalOf } from '../../middlewares/auth.js';
import { requireRoles } from '../../middlewares/authorize.js';
import { ConflictError } from '../../middlewares/errors.js';
import { parseOrThrow } from '../../middlewares/validate.js';
import { bodyOf, type ApiDeps } from './api-deps.js';
import { assertReassignable, corpTaskSettings, findScopedTask, taskScopeFilter } from './task-scope.js';

export const TASK_READERS = ['admin', 'oem', 'dealer_admin', 'manager', 'advisor'] as const;
export const TASK_WORKERS = ['admin', 'dealer_admin', 'manager', 'advisor'] as const;
export const TASK_REASSIGNERS = ['admin', 'dealer_admin', 'manager'] as const;

const isoDate = z.iso.datetime({ offset: true, error: 'use an ISO date-time like 2026-06-01T00:00:00+08:00' });
const listQuery = z.object({
  corpId: z.string().min(1).max(64).optional(),
  advisor: z.string().min(1).max(64).optional(),
  status: z.enum(TASK_STATUSES).optional(),
  overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  dueFrom: isoDate.optional(),
  dueTo: isoDate.optional(),
  ruleId: z.string().regex(/^[a-f0-9]{24}$/, { error: 'a rule id' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.string().regex(/^[a-f0-9]{24}$/).optional(),
});
const completeBody = z.object({ outcome: z.enum(TASK_OUTCOMES, { error: `outcome must be one of ${TASK_OUTCOMES.join(', ')}` }) }).strict();
const snoozeBody = z.object({ days: z.number().int().min(1).max(30).default(1) }).strict();
const reassignBody = z.object({ to: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'a WeCom userid' }) }).strict();

const present = (t: TaskLean, now: Date) => presentTask(t, now, t.status === 'done' ? isOnTime(t) : undefined);

/**
 * `/api/v1/tasks` (issue 8): list and filter, one task with history (and its rendered card
 * content, an audited read of personal data), complete / snooze / unreachable (advisors their
 * own, managers their departments), reassign (managers), CSV export. Changes are audited.
 */
export function createTasksRouter(deps: ApiDeps): Router {
  const router = new Router();
  const log = createLogger({ level: deps.config.logLevel as Parameters<typeof createLogger>[0]['level'], name: 'tasks-api' });

  async function listFilter(ctx: Context): Promise<{ filter: Record<string, unknown>; limit: number }> {
    const q = parseOrThrow(listQuery, ctx.query);
    const now = deps.clock.now();
    const filter: Record<string, unknown> = { ...(await taskScopeFilter(principalOf(ctx))) };
    const and: Record<string, unknown>[] = [];
    if (q.corpId) and.push({ corpId: q.corpId });
    if (q.advisor) and.push({ advisorUserid: q.advisor });
    if (q.status) and.push({ status: q.status });
    if (q.ruleId) and.push({ ruleId: new Types.ObjectId(q.ruleId) });
    if (q.dueFrom || q.dueTo) and.push({ dueAt: { ...(q.dueFrom ? { $gte: new Date(q.dueFrom) } : {}), ...(q.dueTo ? { $lt: new Date(q.dueTo) } : {}) } });
    if (q.overdue !== undefined) and.push(q.overdue ? { status: 'open', dueAt: { $lt: now } } : { $or: [{ status: { $ne: 'open' } }, { dueAt: { $gte: now } }] });
    if (q.before) and.push({ _id: { $lt: new Types.ObjectId(q.before) } });
    if (and.length) filter.$and = and;
    return { filter, limit: q.limit };
  }

  router.get('/tasks', requireRoles(...TASK_READERS), async function listTasks(ctx) {
    const { filter, limit } = await listFilter(ctx);
    const now = deps.clock.now();
    const rows = (await TaskModel.find(filter, { history: 0 }).sort({ _id: -1 }).limit(limit).lean()) as unknown as TaskLean[];
    // `overdue=true` is refined here with each task's own SLA (due + SLA passed).
    const tasks = rows.map((t) => present(t, now)).filter((t) => ctx.query.overdue !== 'true' || t.overdue);
    ctx.body = { tasks, next: rows.length === limit ? String(rows[rows.length - 1]?._id) : undefined };
  });

  router.get('/tasks.csv', requireRoles(...TASK_READERS), async function exportTasks(ctx) {
    const { filter } = await listFilter(ctx);
    const now = deps.clock.now();
    const rows = (await TaskModel.find(filter, { history: 0 }).sort({ dueAt: 1 }).limit(50_000).lean()) as unknown as TaskLean[];
    const columns = ['id', 'corpId', 'advisorUserid', 'customerId', 'ruleId', 'title', 'status', 'outcome', 'dueAt', 'completedAt', 'onTime', 'overdue', 'escalationLevel'] as const;
    const records = rows.map((t) => present(t, now)).map((t) => columns.map((c) => {
      const v = t[c];
      return v instanceof Date ? v.toISOString() : v === undefined ? '' : String(v);
    }));
    ctx.set('Content-Disposition', 'attachment; filename="tasks.csv"');
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = stringify([columns as unknown as string[], ...records]);
  });

  router.get('/tasks/:id', requireRoles(...TASK_READERS), async function getTask(ctx) {
    const p = principalOf(ctx);
    const task = await findScopedTask(p, ctx.params.id ?? '');
    const { timeZone } = await corpTaskSettings(task.corpId, deps.config.defaultTimezone);
    const view = await loadTaskView({ corpId: task.corpId, pd: deps.pd, timeZone }, task);
    await recordAudit({ actor: p, action: 'task.read', target: { type: 'task', id: String(task._id), corpId: task.corpId }, requestId: ctx.state.reqId as string | undefined, at: deps.clock.now() });
    ctx.body = { ...present(task, deps.clock.now()), view, history: task.history };
  });

  async function act(ctx: Context, action: TaskAction, auditAction: string): Promise<void> {
    const p = principalOf(ctx);
    const task = await findScopedTask(p, ctx.params.id ?? '');
    if (action.type === 'reassign') await assertReassignable(p, task.corpId, action.to);
    const { timeZone, settings } = await corpTaskSettings(task.corpId, deps.config.defaultTimezone);
    const result = await applyTaskAction({ corpId: task.corpId, timeZone, settings, clock: deps.clock, queues: deps.queues, logger: log }, String(task._id), action, `api:${p.userid ?? p.tokenId}`);
    if (!result.changed || !result.task) throw new ConflictError(`task ${String(task._id)} is ${task.status}; nothing changed`, 'task_not_open');
    if (action.type === 'reassign') await requestNotify(deps.queues, task.corpId, action.to, `${String(task._id)}-r${result.task.history.length}`);
    await recordAudit({ actor: p, action: auditAction, target: { type: 'task', id: String(task._id), corpId: task.corpId }, requestId: ctx.state.reqId as string | undefined, detail: { status: result.task.status, ...(action.type === 'reassign' ? { to: action.to } : {}) }, at: deps.clock.now() });
    ctx.body = present(result.task, deps.clock.now());
  }

  router.post('/tasks/:id/complete', requireRoles(...TASK_WORKERS), async function completeTask(ctx) {
    await act(ctx, { type: 'complete', outcome: parseOrThrow(completeBody, bodyOf(ctx) ?? {}).outcome }, 'task.complete');
  });
  router.post('/tasks/:id/snooze', requireRoles(...TASK_WORKERS), async function snoozeTask(ctx) {
    await act(ctx, { type: 'snooze', days: parseOrThrow(snoozeBody, bodyOf(ctx) ?? {}).days }, 'task.snooze');
  });
  router.post('/tasks/:id/unreachable', requireRoles(...TASK_WORKERS), async function unreachableTask(ctx) {
    await act(ctx, { type: 'unreachable' }, 'task.unreachable');
  });
  router.post('/tasks/:id/reassign', requireRoles(...TASK_REASSIGNERS), async function reassignTask(ctx) {
    await act(ctx, { type: 'reassign', to: parseOrThrow(reassignBody, bodyOf(ctx) ?? {}).to }, 'task.reassign');
  });
  return router;
}
