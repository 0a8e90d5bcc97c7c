import { UnrecoverableError } from 'bullmq';
import { Types } from 'mongoose';
import type { CorpScope } from '../../src/domain/corps/corp-scope.js';
import { evaluateInactivityRules } from '../../src/domain/rules/engine/inactivity.js';
import { ScheduleModel } from '../../src/domain/schedules/schedule.model.js';
import type { TaskDeps } from '../../src/domain/tasks/task-deps.js';
import { handleTaskDomainEvent } from '../../src/domain/tasks/task-events.js';
import { deliverPending, requestNotify } from '../../src/domain/tasks/task-notify.js';
import { runTaskTickExclusive } from '../../src/domain/tasks/task-tick.js';
import { createTaskFromSchedule, createTasksFromSchedules } from '../../src/domain/tasks/task.service.js';
import { startTransfer } from '../../src/domain/tasks/transfer.service.js';
import type { Logger } from '../../src/infra/logger.js';
import { followUpJob } from '../../src/queues/jobs/schedules.jobs.js';
import { taskNotifyJob, taskTickJob, transferStartJob } from '../../src/queues/jobs/tasks.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { activeScopes, scopeFor, withScope } from '../scope.js';
import type { DomainEventHandler } from './domain-events.processor.js';

/** Task dependencies for one corp from the worker context (undefined: unknown, car-maker or disabled corp). */
export function taskDepsFor(ctx: WorkerContext, corpId: string, log: Logger): TaskDeps | undefined {
  const found = scopeFor(ctx, corpId, log);
  return found.ok ? found.scope.tasks() : undefined;
}

/** How many times a delivery waits for tasks that are still arriving before it sends anyway. */
const MAX_NOTIFY_ROUNDS = 10;

/**
 * A fired `follow_up` schedule becomes exactly one task (docs/tasks.md), then the advisor's card is
 * requested (debounced, so many due at once become a digest).
 */
export async function runFollowUpSchedule(ctx: WorkerContext, scheduleId: string, log: Logger): Promise<unknown> {
  if (!Types.ObjectId.isValid(scheduleId)) throw new UnrecoverableError(`schedule id ${scheduleId} is invalid`);
  const schedule = await ScheduleModel.findById(scheduleId, { corpId: 1 }).lean();
  if (!schedule) return { outcome: 'not_found' };
  return withScope(ctx, schedule.corpId, log, async (scope) => {
    const deps = scope.tasks();
    const created = await createTaskFromSchedule(deps, scheduleId);
    if ('taskId' in created)
      await requestNotify(
        ctx.queues,
        schedule.corpId,
        created.advisorUserid,
        created.taskId,
        0,
        deps.tuning.notifyDebounceMs,
      );
    return created;
  });
}

/**
 * A batch of one corp's `follow_up` schedules due together (the sweep's `scheduleIds`): their tasks
 * are created with a few commands for the batch, then one delivery is requested per advisor
 * (docs/tasks.md).
 */
export async function runFollowUpBatch(
  ctx: WorkerContext,
  corpId: string,
  scheduleIds: string[],
  log: Logger,
): Promise<unknown> {
  return withScope(ctx, corpId, log, async (scope) => {
    const deps = scope.tasks();
    const out = await createTasksFromSchedules(deps, scheduleIds);
    for (const { advisorUserid, scheduleId } of out.advisors)
      await requestNotify(ctx.queues, corpId, advisorUserid, scheduleId, 0, deps.tuning.notifyDebounceMs);
    const { advisors, ...counts } = out;
    return { ...counts, advisors: advisors.length };
  });
}

/** Delivers an advisor's owed cards; waits (a new round) while their tasks are still arriving. */
export async function runTaskNotify(
  ctx: WorkerContext,
  data: { corpId: string; advisorUserid: string; reasonId: string; round: number },
  log: Logger,
): Promise<unknown> {
  const { corpId, advisorUserid, reasonId, round } = data;
  return withScope(ctx, corpId, log, async (scope) => {
    const last = round >= MAX_NOTIFY_ROUNDS;
    const deps = scope.tasks();
    const debounceMs = deps.tuning.notifyDebounceMs;
    const out = await deliverPending(deps, advisorUserid, { quietMs: last ? 0 : debounceMs });
    if (out === 'busy') throw new Error('another delivery for this advisor is running; retried');
    if (out === 'not_settled') await requestNotify(ctx.queues, corpId, advisorUserid, reasonId, round + 1, debounceMs);
    return out;
  });
}

/**
 * The follow-up tasks' jobs: a fired `follow_up` schedule, the debounced card delivery, a
 * transfer's start, and the minute tick (ladder + owed notifications for every dealer corp; once
 * a local day per corp, the inactivity rules).
 */
export function tasksJobs(ctx: WorkerContext, listCorpIds: () => string[]): JobEntry[] {
  return [
    on(followUpJob, ({ scheduleId, scheduleIds, corpId }, _job, log) =>
      scheduleIds && scheduleIds.length > 1
        ? runFollowUpBatch(ctx, corpId, scheduleIds, log)
        : runFollowUpSchedule(ctx, scheduleId, log),
    ),
    on(taskNotifyJob, (data, _job, log) => runTaskNotify(ctx, data, log)),
    on(transferStartJob, async ({ corpId, input, requestedBy, transferId }, _job, log) => {
      return withScope(ctx, corpId, log, async (scope) => {
        const t = await startTransfer(scope.tasks(), input, requestedBy, transferId);
        return { transferId: String(t._id), status: t.status };
      });
    }),
    on(taskTickJob, async (_data, _job, log) => {
      const scopes = activeScopes(ctx, listCorpIds(), log);
      const ticks = await runTaskTickExclusive(
        ctx.redis,
        ctx.config.redis.queuePrefix,
        scopes.map((s) => s.tasks()),
      );
      const inactivity = [];
      for (const scope of scopes) {
        if (await dailyOnce(ctx, scope)) inactivity.push(await evaluateInactivityRules(scope.engine()));
      }
      return { ticks, inactivity };
    }),
  ];
}

/** True once per corp per local calendar day (Redis SET NX), after 09:00 local. */
async function dailyOnce(ctx: WorkerContext, scope: CorpScope): Promise<boolean> {
  const local = ctx.clock.at(scope.timeZone);
  if (local.hour() < 9) return false;
  const key = `${ctx.config.redis.queuePrefix}:inactivity-run:${scope.corpId}:${local.format('YYYY-MM-DD')}`;
  return (await ctx.redis.set(key, '1', 'EX', 3 * 86_400, 'NX')) === 'OK';
}

const TASK_EVENTS = new Set(['customer.lost', 'relationship.transferred', 'vehicle.linked', 'customer.added']);

/**
 * Follow-up tasks as a domain-event consumer (after the rules engine): `customer.lost` cancels
 * open tasks, `relationship.transferred` moves them to the taker, `vehicle.linked` and
 * `customer.added` close "add this owner on WeCom" tasks of owners now reachable (docs/outcomes.md).
 */
export const tasksEventHandler: DomainEventHandler = {
  name: 'tasks',
  async handle(event, scope, log) {
    if (!TASK_EVENTS.has(event.type)) return;
    const out = await handleTaskDomainEvent(scope.tasks(log), event);
    if (out.cancelled || out.moved || out.closed)
      log.info({ corpId: event.corpId, customerId: event.customerId, type: event.type, ...out }, 'open tasks updated');
  },
};
