import { isOnTime } from '../tasks/task.service.js';
import type { TaskLean } from '../tasks/task.model.js';

export type TaskFactsInput = Pick<TaskLean, 'status' | 'dueAt' | 'slaMs' | 'completedAt'> & {
  escalationLevel?: number | null;
};

/** What one follow-up task contributes to the follow-up metrics, judged at `asOf`. */
export interface TaskFacts {
  /** Not cancelled: cancelled tasks count nowhere. */
  counted: boolean;
  onTime: boolean;
  late: boolean;
  /** Open at `asOf` (not closed by then) and past due + SLA at `asOf`. */
  overdue: boolean;
  /** Its result is known at `asOf`: closed by then, or past due + SLA. */
  decided: boolean;
  /** Reached the manager (level 2) or beyond. */
  escalated: boolean;
  /** completedAt − dueAt for done tasks (done early → 0), else null. */
  dueToDoneMs: number | null;
}

/**
 * The one definition of the follow-up metrics per task (`GET /kpis/tasks` and the cockpit's
 * rollups, docs/cockpit.md, both use it). On time is `isOnTime`: done no later than due + SLA. A task closed
 * after `asOf` (the rollup's frozen as-of instant) counts as open at `asOf`.
 */
export function taskFacts(task: TaskFactsInput, asOf: Date): TaskFacts {
  const counted = task.status !== 'cancelled';
  const limit = task.dueAt.getTime() + task.slaMs;
  const closedBy =
    (task.status === 'done' || task.status === 'unreachable') &&
    !!task.completedAt &&
    task.completedAt.getTime() <= asOf.getTime();
  const done = task.status === 'done';
  const onTime = counted && isOnTime(task);
  return {
    counted,
    onTime,
    late: counted && done && !onTime,
    overdue: counted && !closedBy && asOf.getTime() > limit,
    decided: counted && (closedBy || asOf.getTime() > limit || onTime),
    escalated: counted && (task.escalationLevel ?? 0) >= 2,
    dueToDoneMs:
      counted && done && task.completedAt ? Math.max(0, task.completedAt.getTime() - task.dueAt.getTime()) : null,
  };
}
