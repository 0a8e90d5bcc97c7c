import { taskFacts } from '../kpis/task-facts.js';
import { TaskModel, type TaskLean } from './task.model.js';

export interface TaskKpi {
  advisorUserid: string;
  /** Tasks due in the range (cancelled ones excluded). */
  due: number;
  doneOnTime: number;
  doneLate: number;
  /** Still open and past due + SLA at `now`. */
  overdueOpen: number;
  /** Reached level 2 (leader escalated) or beyond. */
  escalated: number;
  /** Median from the task's creation to its completion (ms); null without completions. */
  medianCompletionMs: number | null;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? null) : Math.round(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2);
}

/**
 * Follow-up KPIs per advisor over tasks due in [from, to) (docs/tasks.md). Counts come from
 * `taskFacts` (on time: done no later than due + SLA), the definition the cockpit shares. Time to completion counts from the task's creation
 * (its first history entry, business time) to `completedAt`.
 */
export async function taskKpis(
  filter: { corpId: string; from: Date; to: Date; advisors?: string[] },
  now: Date,
): Promise<{ total: TaskKpi; byAdvisor: TaskKpi[] }> {
  const tasks = (await TaskModel.find(
    {
      corpId: filter.corpId,
      dueAt: { $gte: filter.from, $lt: filter.to },
      status: { $ne: 'cancelled' },
      ...(filter.advisors ? { advisorUserid: { $in: filter.advisors } } : {}),
    },
    { advisorUserid: 1, status: 1, dueAt: 1, slaMs: 1, completedAt: 1, escalationLevel: 1, history: { $slice: 1 } },
  ).lean()) as TaskLean[];
  const groups = new Map<string, TaskLean[]>();
  for (const t of tasks) groups.set(t.advisorUserid, [...(groups.get(t.advisorUserid) ?? []), t]);
  const kpiOf = (advisorUserid: string, list: TaskLean[]): TaskKpi => {
    // The same per-task definition as the cockpit's rollups (kpis/task-facts.ts), judged now.
    const facts = list.map((t) => taskFacts(t, now));
    const done = list.filter((t) => t.status === 'done');
    return {
      advisorUserid,
      due: list.length,
      doneOnTime: facts.filter((f) => f.onTime).length,
      doneLate: facts.filter((f) => f.late).length,
      overdueOpen: facts.filter((f) => f.overdue).length,
      escalated: facts.filter((f) => f.escalated).length,
      medianCompletionMs: median(
        done
          .filter((t) => t.completedAt && t.history[0])
          .map((t) => (t.completedAt as Date).getTime() - (t.history[0]?.at as Date).getTime()),
      ),
    };
  };
  return {
    total: kpiOf('*', tasks),
    byAdvisor: [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([a, list]) => kpiOf(a, list)),
  };
}
