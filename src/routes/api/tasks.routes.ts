import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { loadTaskView } from '../../domain/tasks/task-card.js';
import { requestNotify } from '../../domain/tasks/task-notify.js';
import { applyTaskAction, closesItself, isOnTime, type TaskAction } from '../../domain/tasks/task.service.js';
import type { TaskLean } from '../../domain/tasks/task.model.js';
import {
  TASK_OUTCOMES,
  TASK_STATUSES,
  assertReassignable,
  corpTaskSettings,
  countOpenTasks,
  findScopedTask,
  findTaskPage,
  openTasksToMove,
  tasksForExport,
  type TaskListFilter,
} from '../../domain/tasks/task-queries.js';
import { managedAdvisors, pickableAdvisors } from '../../domain/customers/advisor-queries.js';
import { toCsv } from '../../infra/csv.js';
import { presentTask, type AdvisorOption, type ApiTaskDetail, type ReassignBulkResult } from './task-present.js';
import { customerLabels } from '../../domain/customers/customer-labels.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { ConflictError, ForbiddenError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

export const TASK_READERS = ['admin', 'oem', 'dealer_admin', 'manager', 'advisor'] as const;
export const TASK_WORKERS = ['admin', 'dealer_admin', 'manager', 'advisor'] as const;
export const TASK_REASSIGNERS = ['admin', 'dealer_admin', 'manager'] as const;

/** At most this many tasks move in one bulk reassignment; the answer says how many are left. */
export const BULK_REASSIGN_LIMIT = 500;

const isoDate = z.iso.datetime({ offset: true, error: 'use an ISO date-time like 2026-06-01T00:00:00+08:00' });
const userid = z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'a WeCom userid' });
const objectId = z.string().regex(/^[a-f0-9]{24}$/, { error: 'a task id (24 hex digits)' });
export const taskListQuery = z.object({
  corpId: z.string().min(1).max(64).optional(),
  /** WeCom department id: tasks of the advisors in it. */
  department: z.coerce.number().int().min(1).optional(),
  advisor: z.string().min(1).max(64).optional(),
  status: z.enum(TASK_STATUSES).optional(),
  overdue: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  dueFrom: isoDate.optional(),
  dueTo: isoDate.optional(),
  ruleId: z
    .string()
    .regex(/^[a-f0-9]{24}$/, { error: 'a rule id' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** Cursor: the `next` of the previous page (tasks are listed newest first). */
  before: z
    .string()
    .regex(/^[a-f0-9]{24}$/)
    .optional(),
  /** `customer`: add each task's customer display name and vehicle (an audited read of personal data). */
  include: z.enum(['customer']).optional(),
});
const listQuery = taskListQuery;
export const completeBody = z
  .object({
    outcome: z.enum(TASK_OUTCOMES, { error: `outcome must be one of ${TASK_OUTCOMES.join(', ')}` }),
    /** With `appointment_booked`: when the customer comes (the sidebar's "booked with date"). */
    bookedAt: isoDate.optional(),
  })
  .strict()
  .refine((b) => !b.bookedAt || b.outcome === 'appointment_booked', {
    path: ['bookedAt'],
    message: 'bookedAt goes only with outcome appointment_booked',
  });
export const snoozeBody = z.object({ days: z.number().int().min(1).max(30).default(1) }).strict();
export const reassignBody = z.object({ to: userid }).strict();
export const reassignBulkBody = z
  .object({
    corpId: z.string().min(1).max(64),
    fromAdvisor: userid,
    toAdvisor: userid,
    /** Only these of fromAdvisor's open tasks; omitted = all of them (up to the limit per call). */
    taskIds: z
      .array(objectId)
      .min(1)
      .max(BULK_REASSIGN_LIMIT, { error: `at most ${BULK_REASSIGN_LIMIT} tasks per call` })
      .optional(),
  })
  .strict()
  .refine((b) => b.fromAdvisor !== b.toAdvisor, { path: ['toAdvisor'], message: 'must differ from fromAdvisor' });
export const advisorsQuery = z.object({ corpId: z.string().min(1).max(64).optional() }).strict();

const present = (t: TaskLean, now: Date) => presentTask(t, now, t.status === 'done' ? isOnTime(t) : undefined);

/**
 * `/api/v1/tasks` (docs/tasks.md): list and filter, one task with history (and its rendered card
 * content, an audited read of personal data), complete / snooze / unreachable (advisors their
 * own, managers their departments), reassign (managers), CSV export. Changes are audited.
 */
export function createTasksRouter(deps: ApiDeps): Router {
  const router = new Router();
  function listQueryOf(ctx: Context): TaskListFilter & { limit: number; include?: 'customer' } {
    return parseOrThrow(listQuery, ctx.query);
  }

  router.get('/tasks', async function listTasks(ctx) {
    const { limit, include, ...q } = listQueryOf(ctx);
    const now = deps.clock.now();
    const rows = await findTaskPage(principalOf(ctx), q, limit, now);
    // `overdue=true` is refined here with each task's own SLA (due + SLA passed).
    const kept = rows.filter((t) => ctx.query.overdue !== 'true' || present(t, now).overdue);
    const next = rows.length === limit ? String(rows[rows.length - 1]?._id) : undefined;
    if (include !== 'customer') {
      ctx.body = { tasks: kept.map((t) => present(t, now)), next };
      return;
    }
    const labels = await customerLabels(deps.pd, kept);
    const p = principalOf(ctx);
    for (const corpId of new Set(kept.map((t) => t.corpId))) {
      await recordAudit({
        actor: p,
        action: 'task.list_customers',
        target: { type: 'task', corpId },
        requestId: ctx.state.reqId as string | undefined,
        detail: { results: kept.filter((t) => t.corpId === corpId).length },
        at: now,
      });
    }
    ctx.body = { tasks: kept.map((t) => ({ ...present(t, now), customer: labels.get(String(t._id)) })), next };
  });

  router.get('/tasks.csv', async function exportTasks(ctx) {
    const { limit: _page, include: _include, ...q } = listQueryOf(ctx);
    const now = deps.clock.now();
    const rows = await tasksForExport(principalOf(ctx), q, now);
    const columns = [
      'id',
      'corpId',
      'advisorUserid',
      'customerId',
      'ruleId',
      'title',
      'status',
      'outcome',
      'dueAt',
      'completedAt',
      'onTime',
      'overdue',
      'escalationLevel',
    ] as const;
    const records = rows
      .map((t) => present(t, now))
      .map((t) =>
        columns.map((c) => {
          const v = t[c];
          return v instanceof Date ? v.toISOString() : v === undefined ? '' : String(v);
        }),
      );
    ctx.set('Content-Disposition', 'attachment; filename="tasks.csv"');
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = toCsv([columns as unknown as string[], ...records]);
  });

  /**
   * `GET /api/v1/advisors?corpId`: the members tasks and customers can be given to, for pickers:
   * a manager's departments, every member of the corp for corp-wide roles (names are work names).
   */
  router.get('/advisors', async function listAdvisors(ctx) {
    const p = principalOf(ctx);
    const { corpId } = parseOrThrow(advisorsQuery, ctx.query);
    if (corpId) assertCorp(p, corpId, 'write');
    const rows = await pickableAdvisors(p, corpId);
    ctx.body = {
      advisors: rows.map((a): AdvisorOption => ({
        corpId: a.corpId,
        userid: a.userid,
        name: a.name || a.userid,
        departments: a.departments,
        status: a.status,
      })),
    };
  });

  /**
   * `POST /api/v1/tasks/reassign-bulk { corpId, fromAdvisor, toAdvisor, taskIds? }`: moves open
   * tasks of one advisor (an advisor leaving, or overloaded) to another, at most
   * BULK_REASSIGN_LIMIT per call (`remaining` says whether to call again). Each task records the
   * reassignment in its history; the taker is told once; one audit entry for the batch.
   */
  router.post('/tasks/reassign-bulk', async function reassignBulk(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(reassignBulkBody, bodyOf(ctx) ?? {});
    assertCorp(p, body.corpId, 'write');
    if (p.role === 'manager' && !(await managedAdvisors(p)).includes(body.fromAdvisor))
      throw new ForbiddenError(`${body.fromAdvisor} is not in your departments`, 'advisor_forbidden');
    await assertReassignable(p, body.corpId, body.toAdvisor);
    const picked = await openTasksToMove(p, body.corpId, body.fromAdvisor, BULK_REASSIGN_LIMIT, body.taskIds);
    const { timeZone, settings } = await corpTaskSettings(body.corpId, deps.config.defaultTimezone);
    const actor = `api:${p.userid ?? p.tokenId}`;
    const moved: string[] = [];
    for (const taskId of picked) {
      const result = await applyTaskAction(
        { corpId: body.corpId, timeZone, settings, clock: deps.clock, queues: deps.queues, logger: deps.logger },
        taskId,
        { type: 'reassign', to: body.toAdvisor },
        actor,
      );
      if (result.changed) moved.push(taskId);
    }
    if (moved.length > 0) await requestNotify(deps.queues, body.corpId, body.toAdvisor, `${moved[0]}-b${moved.length}`);
    const remaining = await countOpenTasks(body.corpId, body.fromAdvisor);
    const requested = body.taskIds?.length ?? picked.length;
    await recordAudit({
      actor: p,
      action: 'task.reassign_bulk',
      target: { type: 'task', corpId: body.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { from: body.fromAdvisor, to: body.toAdvisor, reassigned: moved.length, requested },
      at: deps.clock.now(),
    });
    ctx.body = {
      reassigned: moved.length,
      skipped: requested - moved.length,
      taskIds: moved,
      remaining,
    } satisfies ReassignBulkResult;
  });

  router.get('/tasks/:id', async function getTask(ctx) {
    const p = principalOf(ctx);
    const task = await findScopedTask(p, ctx.params.id ?? '');
    const { timeZone } = await corpTaskSettings(task.corpId, deps.config.defaultTimezone);
    const view = await loadTaskView({ corpId: task.corpId, pd: deps.pd, timeZone }, task);
    await recordAudit({
      actor: p,
      action: 'task.read',
      target: { type: 'task', id: String(task._id), corpId: task.corpId },
      requestId: ctx.state.reqId as string | undefined,
      at: deps.clock.now(),
    });
    ctx.body = {
      ...present(task, deps.clock.now()),
      view,
      history: task.history.map((h) => ({
        at: h.at,
        actor: h.actor,
        action: h.action,
        detail: h.detail as Record<string, unknown> | undefined,
      })),
    } satisfies ApiTaskDetail;
  });

  async function act(ctx: Context, action: TaskAction, auditAction: string): Promise<void> {
    const p = principalOf(ctx);
    const task = await findScopedTask(p, ctx.params.id ?? '');
    if (action.type === 'reassign') await assertReassignable(p, task.corpId, action.to);
    if (task.kind === 'broadcast_confirm' && closesItself(action))
      throw new ConflictError(
        'a broadcast confirmation task closes by itself once the advisor confirms the mass send in WeCom (群发助手)',
        'task_closes_itself',
      );
    const { timeZone, settings } = await corpTaskSettings(task.corpId, deps.config.defaultTimezone);
    const result = await applyTaskAction(
      { corpId: task.corpId, timeZone, settings, clock: deps.clock, queues: deps.queues, logger: deps.logger },
      String(task._id),
      action,
      `api:${p.userid ?? p.tokenId}`,
    );
    if (!result.changed || !result.task)
      throw new ConflictError(`task ${String(task._id)} is ${task.status}; nothing changed`, 'task_not_open');
    if (action.type === 'reassign')
      await requestNotify(deps.queues, task.corpId, action.to, `${String(task._id)}-r${result.task.history.length}`);
    await recordAudit({
      actor: p,
      action: auditAction,
      target: { type: 'task', id: String(task._id), corpId: task.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { status: result.task.status, ...(action.type === 'reassign' ? { to: action.to } : {}) },
      at: deps.clock.now(),
    });
    ctx.body = present(result.task, deps.clock.now());
  }

  router.post('/tasks/:id/complete', async function completeTask(ctx) {
    const body = parseOrThrow(completeBody, bodyOf(ctx) ?? {});
    await act(
      ctx,
      { type: 'complete', outcome: body.outcome, ...(body.bookedAt ? { bookedAt: new Date(body.bookedAt) } : {}) },
      'task.complete',
    );
  });
  router.post('/tasks/:id/snooze', async function snoozeTask(ctx) {
    await act(ctx, { type: 'snooze', days: parseOrThrow(snoozeBody, bodyOf(ctx) ?? {}).days }, 'task.snooze');
  });
  router.post('/tasks/:id/unreachable', async function unreachableTask(ctx) {
    await act(ctx, { type: 'unreachable' }, 'task.unreachable');
  });
  router.post('/tasks/:id/reassign', async function reassignTask(ctx) {
    await act(ctx, { type: 'reassign', to: parseOrThrow(reassignBody, bodyOf(ctx) ?? {}).to }, 'task.reassign');
  });
  return router;
}
