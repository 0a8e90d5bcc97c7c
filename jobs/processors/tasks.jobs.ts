import { UnrecoverableError, type Job } from 'bullmq';
import { Types } from 'mongoose';
import { z } from 'zod';
import { ScheduleModel } from '../../src/domain/schedules/schedule.model.js';
import { evaluateInactivityRules } from '../../src/domain/rules/engine/inactivity.js';
import { buildTaskDeps, type TaskDeps } from '../../src/domain/tasks/task-deps.js';
import { handleTaskDomainEvent } from '../../src/domain/tasks/task-events.js';
import { deliverPending, requestNotify, TASK_NOTIFY_JOB } from '../../src/domain/tasks/task-notify.js';
import { runTaskTickExclusive, TASK_TICK_SCHEDULER_ID, TASK_TICK_TASK } from '../../src/domain/tasks/task-tick.js';
import { createTaskFromSchedule } from '../../src/domain/tasks/task.service.js';
import { startTransfer, TRANSFER_START_JOB } from '../../src/domain/tasks/transfer.service.js';
import type { Logger } from '../../src/infra/logger.js';
import type { Queues } from '../../src/queues/queue-factory.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { toJobError } from '../../src/wecom/job-errors.js';
import type { WorkerContext } from '../context.js';
import type { DomainEventHandler } from './domain-event-handlers.js';
import type { MaintenanceTask } from './maintenance.processor.js';
import { engineDepsFor } from './rules-engine-deps.js';
import type { ScheduledJobHandler, ScheduleKindHandler } from './scheduled.processor.js';

/** Task dependencies for one corp from the worker context (undefined: unknown, OEM or disabled corp). */
export function taskDepsFor(ctx: WorkerContext, corpId: string, log: Logger): TaskDeps | undefined {
  return buildTaskDeps(ctx.corps?.get(corpId), { ...ctx, logger: log });
}

function requireDeps(ctx: WorkerContext, corpId: string, log: Logger): TaskDeps {
  const deps = taskDepsFor(ctx, corpId, log);
  if (!deps) throw new Error(`corp ${corpId} is not loaded (or not a dealer corp); the job is retried`);
  return deps;
}

/**
 * A fired `follow_up` schedule becomes exactly one task (docs/tasks.md), then the advisor's card is
 * requested (debounced, so many due at once become a digest).
 */
export const followUpScheduleHandler: ScheduleKindHandler = async (scheduleId, ctx, log) => {
  if (!Types.ObjectId.isValid(scheduleId)) throw new UnrecoverableError(`schedule id ${scheduleId} is invalid`);
  const schedule = await ScheduleModel.findById(scheduleId, { corpId: 1 }).lean();
  if (!schedule) return { outcome: 'not_found' };
  try {
    const deps = requireDeps(ctx, schedule.corpId, log);
    const created = await createTaskFromSchedule(deps, scheduleId);
    if ('taskId' in created) await requestNotify(ctx.queues, schedule.corpId, created.advisorUserid, created.taskId, 0, deps.tuning.notifyDebounceMs);
    return created;
  } catch (err) {
    throw toJobError(err);
  }
};

const notifyJob = z.object({ corpId: z.string().min(1), advisorUserid: z.string().min(1), reasonId: z.string().min(1).default('legacy'), round: z.number().int().min(0).default(0) });
/** How many times a delivery waits for tasks that are still arriving before it sends anyway. */
const MAX_NOTIFY_ROUNDS = 10;

const transferStartJob = z.object({
  corpId: z.string().min(1),
  transferId: z.string().regex(/^[a-f0-9]{24}$/),
  requestedBy: z.string().min(1),
  input: z.object({ kind: z.enum(['in_service', 'resigned']), handoverUserid: z.string().min(1), takeoverUserid: z.string().min(1), externalUserIds: z.array(z.string().min(1)).min(1), transferSuccessMsg: z.string().max(200).optional() }),
});

/** Named jobs of the tasks issue on the `scheduled` queue: the debounced card delivery, a transfer's start. */
export const taskScheduledJobs: Record<string, ScheduledJobHandler> = {
  [TRANSFER_START_JOB]: async (job: Job, ctx, log) => {
    const data = transferStartJob.safeParse(job.data);
    if (!data.success) throw new UnrecoverableError('transfer-start job data is invalid');
    try {
      const t = await startTransfer(requireDeps(ctx, data.data.corpId, log), data.data.input, data.data.requestedBy, data.data.transferId);
      return { transferId: String(t._id), status: t.status };
    } catch (err) {
      throw toJobError(err);
    }
  },
  [TASK_NOTIFY_JOB]: async (job: Job, ctx, log) => {
    const data = notifyJob.safeParse(job.data);
    if (!data.success) throw new UnrecoverableError('task-notify job data is invalid');
    try {
      const { corpId, advisorUserid, reasonId, round } = data.data;
      const last = round >= MAX_NOTIFY_ROUNDS;
      const deps = requireDeps(ctx, corpId, log);
      const debounceMs = deps.tuning.notifyDebounceMs;
      const out = await deliverPending(deps, advisorUserid, { quietMs: last ? 0 : debounceMs });
      if (out === 'busy') throw new Error('another delivery for this advisor is running; retried');
      if (out === 'not_settled') await requestNotify(ctx.queues, corpId, advisorUserid, reasonId, round + 1, debounceMs);
      return out;
    } catch (err) {
      throw toJobError(err);
    }
  },
};

/** Schedule kinds this issue executes. */
export const taskScheduleKinds: Record<string, ScheduleKindHandler> = { follow_up: followUpScheduleHandler };

/** The minute tick (ladder + owed notifications) for every dealer corp; once a local day per corp, the inactivity rules. */
export function taskMaintenanceTasks(listCorpIds: () => string[]): Record<string, MaintenanceTask> {
  return {
    [TASK_TICK_TASK]: async (_job, log, ctx) => {
      const depsList = listCorpIds().map((id) => taskDepsFor(ctx, id, log)).filter((d): d is TaskDeps => d !== undefined);
      try {
        const ticks = await runTaskTickExclusive(ctx.redis, ctx.config.redis.queuePrefix, depsList);
        const inactivity = [];
        for (const deps of depsList) {
          const engine = engineDepsFor(ctx, deps.corpId, log);
          if (engine && (await dailyOnce(ctx, deps))) inactivity.push(await evaluateInactivityRules(engine));
        }
        return { ticks, inactivity };
      } catch (err) {
        throw toJobError(err);
      }
    },
  };
}

/** True once per corp per local calendar day (Redis SET NX), after 09:00 local. */
async function dailyOnce(ctx: WorkerContext, deps: TaskDeps): Promise<boolean> {
  const local = ctx.clock.at(deps.timeZone);
  if (local.hour() < 9) return false;
  const key = `${ctx.config.redis.queuePrefix}:inactivity-run:${deps.corpId}:${local.format('YYYY-MM-DD')}`;
  return (await ctx.redis.set(key, '1', 'EX', 3 * 86_400, 'NX')) === 'OK';
}

/** Installs the minute tick as a job scheduler on `maintenance` (idempotent; one per cluster). */
export async function ensureTaskTickScheduler(queues: Queues): Promise<void> {
  await queues.get(QueueName.maintenance).upsertJobScheduler(TASK_TICK_SCHEDULER_ID, { every: 60_000 }, { name: TASK_TICK_TASK, data: {} });
}

/**
 * Follow-up tasks as a domain-event consumer (after the rules engine): `customer.lost` cancels
 * open tasks, `relationship.transferred` moves them to the taker.
 */
export const tasksEventHandler: DomainEventHandler = {
  name: 'tasks',
  async handle(event, ctx, log) {
    if (event.type !== 'customer.lost' && event.type !== 'relationship.transferred') return;
    const deps = taskDepsFor(ctx, event.corpId, log);
    if (!deps) return;
    const out = await handleTaskDomainEvent(deps, event);
    if (out.cancelled || out.moved) log.info({ corpId: event.corpId, customerId: event.customerId, type: event.type, ...out }, 'open tasks updated');
  },
};
