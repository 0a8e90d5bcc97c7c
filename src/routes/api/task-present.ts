import type { TaskLean } from '../../domain/tasks/task.model.js';

/**
 * A task as the API shows it: ids, times, states; no customer data. Kept apart from the router
 * (and free of runtime imports) so the console can import `ApiTask` without the server's graph.
 */
export function presentTask(t: TaskLean, now: Date, onTime: boolean | undefined) {
  return {
    id: String(t._id),
    corpId: t.corpId,
    advisorUserid: t.advisorUserid,
    customerId: t.customerId ? String(t.customerId) : undefined,
    /** `add_on_wecom` tasks (docs/outcomes.md): the vehicle whose owner is to be added on WeCom. */
    vehicleId: t.vehicleId ? String(t.vehicleId) : undefined,
    kind: t.kind ?? 'follow_up',
    ruleId: t.ruleId ? String(t.ruleId) : undefined,
    scheduleId: t.scheduleId ? String(t.scheduleId) : undefined,
    title: t.title,
    reason: t.reason ?? undefined,
    status: t.status,
    outcome: t.outcome ?? undefined,
    dueAt: t.dueAt,
    slaMs: t.slaMs,
    remindAt: t.remindAt,
    escalationLevel: t.escalationLevel,
    flagged: t.flagged ?? false,
    completedAt: t.completedAt ?? undefined,
    onTime,
    overdue: t.status === 'open' && now.getTime() > t.dueAt.getTime() + t.slaMs,
  };
}

/** A task as `GET /api/v1/tasks` lists it (the console imports this type; dates arrive as strings). */
export type ApiTask = ReturnType<typeof presentTask>;

/** What `GET /api/v1/tasks/:id` adds: the card content rendered for this read, and the whole history. */
export interface ApiTaskView {
  customer: string;
  customerName?: string;
  remark?: string;
  externalUserId?: string;
  model?: string;
  advisorName: string;
  due: string;
  talkTrack?: string;
  /** `add_on_wecom` tasks: the vehicle (model, the VIN's last four only). */
  vehicle?: { model?: string; vinTail: string };
}
/** One history entry: who (`system`, `api:<userid>`, `wecom:<userid>` ...), what, when; ids and codes only. */
export interface ApiTaskHistoryEntry {
  at: Date;
  actor: string;
  action: string;
  detail?: Record<string, unknown>;
}
export type ApiTaskDetail = ApiTask & { view: ApiTaskView; history: ApiTaskHistoryEntry[] };
/** What `POST /api/v1/tasks/reassign-bulk` answers. */
export interface ReassignBulkResult {
  reassigned: number;
  skipped: number;
  taskIds: string[];
  remaining: number;
}
/** One member in the console's advisor pickers (`GET /api/v1/advisors`). */
export interface AdvisorOption {
  corpId: string;
  userid: string;
  name: string;
  departments: number[];
  status: string;
}
