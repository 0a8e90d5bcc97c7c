import { Types } from 'mongoose';
import { AdvisorModel } from '../customers/advisor.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { ExecutionModel } from '../rules/engine/execution.model.js';
import { ScheduleModel } from '../schedules/schedule.model.js';
import { isOnTime } from '../tasks/task.service.js';
import { TaskModel, type TaskLean } from '../tasks/task.model.js';
import { addToHistogram } from './duration-histogram.js';
import { emptyAccumulator, type KpiAccumulator } from './kpi-counters.js';
import { KpiDailyModel } from './kpi-daily.model.js';
import { addDays, dayBounds, daysBetween } from './kpi-days.js';
import { ensureKpiIndexes } from './kpi-indexes.js';
import { rollupPeriods } from './period-rollup.service.js';
import { INVITATION_CATEGORIES, taskCategoryOf, type TaskCategory } from './task-category.js';
import { taskFacts } from './task-facts.js';

/**
 * How long a day's numbers keep moving: cohort metrics (30-day loss rate, delivery care, message
 * results) settle within a month, and "still overdue" is judged at min(now, end of day + this).
 * The nightly run recomputes this many past days; older days change only through the backfill.
 */
export const SETTLE_DAYS = 31;
const DAY_MS = 86_400_000;
const LOSS_WINDOW_MS = 30 * DAY_MS;
/** Advisor key for counts without a responsible advisor. */
export const NO_ADVISOR = '-';

export interface RollupInput {
  corpId: string;
  /** Corp-local day `YYYY-MM-DD`. */
  day: string;
  timeZone: string;
  now: Date;
  /** Leave the week and month documents to the caller (rollupRange recomputes each touched period once). */
  skipPeriods?: boolean;
}

export interface RollupResult {
  corpId: string;
  day: string;
  advisors: number;
  asOf: Date;
  /** Source documents each query returned: the rollup's read cost (each query is an index range on this day). */
  docsRead: Record<
    'tasks' | 'customers' | 'careTasks' | 'relationshipsAdded' | 'relationshipsLost' | 'executions' | 'recipients',
    number
  >;
}

type Accs = Map<string, KpiAccumulator>;
const accOf = (accs: Accs, advisor: string | null | undefined): KpiAccumulator => {
  const key = advisor || NO_ADVISOR;
  let acc = accs.get(key);
  if (!acc) accs.set(key, (acc = emptyAccumulator()));
  return acc;
};

/** The as-of instant of a day's point-in-time metrics: now, frozen SETTLE_DAYS after the day ends. */
export function asOfFor(dayEnd: Date, now: Date): Date {
  return new Date(Math.min(now.getTime(), dayEnd.getTime() + SETTLE_DAYS * DAY_MS));
}

/** Categories of tasks created before tasks carried one: from their schedule's occurrence (one batched read). */
async function categoriesOf(
  tasks: Array<Pick<TaskLean, '_id' | 'scheduleId'> & { category?: string | null }>,
): Promise<Map<string, TaskCategory>> {
  const out = new Map<string, TaskCategory>();
  const missing = tasks.filter((t) => !t.category && t.scheduleId);
  const schedules = missing.length
    ? await ScheduleModel.find({ _id: { $in: missing.map((t) => t.scheduleId) } }, { occurrenceId: 1 }).lean()
    : [];
  const occ = new Map(schedules.map((s) => [String(s._id), s.occurrenceId]));
  for (const t of tasks)
    out.set(String(t._id), (t.category as TaskCategory | undefined) ?? taskCategoryOf(occ.get(String(t.scheduleId))));
  return out;
}

async function followUps(accs: Accs, corpId: string, start: Date, end: Date, asOf: Date): Promise<number> {
  const tasks = (await TaskModel.find(
    { corpId, dueAt: { $gte: start, $lt: end } },
    {
      advisorUserid: 1,
      status: 1,
      dueAt: 1,
      slaMs: 1,
      completedAt: 1,
      outcome: 1,
      escalationLevel: 1,
      category: 1,
      scheduleId: 1,
      'history.action': 1,
    },
  ).lean()) as unknown as TaskLean[];
  const categories = await categoriesOf(tasks);
  for (const t of tasks) {
    const f = taskFacts(t, asOf);
    if (!f.counted) continue;
    const c = accOf(accs, t.advisorUserid);
    const k = c.counters;
    k.tasksDue++;
    if (f.decided) k.tasksDecided++;
    if (f.onTime) k.tasksDoneOnTime++;
    if (f.late) k.tasksDoneLate++;
    if (f.overdue) k.tasksOverdue++;
    if (f.escalated) k.tasksEscalated++;
    if ((t.history ?? []).some((h) => h.action === 'reassigned')) k.tasksReassigned++;
    if (f.dueToDoneMs !== null) addToHistogram(c.dueToDone, f.dueToDoneMs);
    if (INVITATION_CATEGORIES.includes(categories.get(String(t._id)) ?? 'other')) {
      if (t.status === 'done') k.invitationsSent++;
      if (t.status === 'done' && t.outcome === 'appointment_booked') k.invitationsBooked++;
      if (t.status === 'done' && t.outcome === 'customer_declined') k.invitationsDeclined++;
      if (t.status === 'unreachable') k.invitationsUnreachable++;
    }
  }
  return tasks.length;
}

async function newOwners(
  accs: Accs,
  corpId: string,
  start: Date,
  end: Date,
): Promise<{ customers: number; careTasks: number }> {
  const inDay = (at: Date) => at.getTime() >= start.getTime() && at.getTime() < end.getTime();
  const rows = await CustomerModel.find(
    { corpId, 'lifecycleHistory.at': { $gte: start, $lt: end } },
    { responsibleUserid: 1, lifecycleHistory: 1 },
  ).lean();
  const owners = rows.filter((c) => c.lifecycleHistory.some((e) => e.stage === 'owner' && inDay(e.at)));
  if (owners.length === 0) return { customers: rows.length, careTasks: 0 };
  const tasks = (await TaskModel.find(
    { corpId, customerId: { $in: owners.map((c) => c._id) }, status: { $in: ['open', 'done', 'unreachable'] } },
    { customerId: 1, status: 1, dueAt: 1, slaMs: 1, completedAt: 1, category: 1, scheduleId: 1 },
  ).lean()) as unknown as TaskLean[];
  const categories = await categoriesOf(tasks);
  const cared = new Set(
    tasks
      .filter((t) => categories.get(String(t._id)) === 'delivery_care' && isOnTime(t))
      .map((t) => String(t.customerId)),
  );
  for (const c of owners) {
    const k = accOf(accs, c.responsibleUserid).counters;
    k.newOwners++;
    if (cared.has(String(c._id))) k.newOwnersCareOnTime++;
  }
  return { customers: rows.length, careTasks: tasks.length };
}

async function relationships(
  accs: Accs,
  corpId: string,
  start: Date,
  end: Date,
): Promise<{ added: number; lost: number }> {
  const added = await RelationshipModel.find(
    { corpId, addedAt: { $gte: start, $lt: end } },
    { userid: 1, state: 1, status: 1, statusChangedAt: 1, addedAt: 1 },
  ).lean();
  for (const r of added) {
    const c = accOf(accs, r.userid);
    c.counters.customersAdded++;
    const state = r.state || NO_ADVISOR;
    c.addedByState[state] = (c.addedByState[state] ?? 0) + 1;
    if (
      r.status === 'deleted_by_customer' &&
      r.statusChangedAt &&
      r.addedAt &&
      r.statusChangedAt.getTime() - r.addedAt.getTime() <= LOSS_WINDOW_MS
    )
      c.counters.addedLost30d++;
  }
  const lost = await RelationshipModel.find(
    { corpId, statusChangedAt: { $gte: start, $lt: end }, status: 'deleted_by_customer' },
    { userid: 1 },
  ).lean();
  for (const r of lost) accOf(accs, r.userid).counters.customersLost++;
  return { added: added.length, lost: lost.length };
}

async function executions(accs: Accs, corpId: string, start: Date, end: Date): Promise<number> {
  const rows = await ExecutionModel.find(
    { corpId, createdAt: { $gte: start, $lt: end } },
    { subject: 1, occurrenceId: 1, actions: 1 },
  ).lean();
  const blocked: Array<{ customerId: string; reason: 'cap' | 'opt_out' }> = [];
  for (const e of rows) {
    for (const a of e.actions) {
      if (a.type === 'welcome') {
        const advisor = e.occurrenceId.startsWith('add:') ? e.occurrenceId.slice(4) : NO_ADVISOR;
        if (a.status === 'done') accOf(accs, advisor).counters.welcomesSent++;
        else if (a.status === 'failed' || (a.status === 'skipped' && (a.reason ?? '').startsWith('errcode_')))
          accOf(accs, advisor).counters.welcomesFailed++;
      }
      if (
        a.type === 'message_customer' &&
        a.status === 'skipped' &&
        (a.reason === 'monthly_cap' || a.reason === 'opted_out') &&
        Types.ObjectId.isValid(e.subject)
      ) {
        blocked.push({ customerId: e.subject, reason: a.reason === 'monthly_cap' ? 'cap' : 'opt_out' });
      }
    }
  }
  if (blocked.length) {
    const owners = new Map(
      (
        await CustomerModel.find(
          { _id: { $in: [...new Set(blocked.map((b) => b.customerId))].map((id) => new Types.ObjectId(id)) } },
          { responsibleUserid: 1 },
        ).lean()
      ).map((c) => [String(c._id), c.responsibleUserid]),
    );
    for (const b of blocked) {
      const k = accOf(accs, owners.get(b.customerId)).counters;
      if (b.reason === 'cap') k.messagesBlockedCap++;
      else k.messagesBlockedOptOut++;
    }
  }
  return rows.length;
}

async function messages(accs: Accs, corpId: string, start: Date, end: Date): Promise<number> {
  const rows = await MessageRecipientModel.find(
    { corpId, createdAt: { $gte: start, $lt: end } },
    { sender: 1, status: 1, wecomStatus: 1, reason: 1 },
  ).lean();
  for (const r of rows) {
    if (r.reason === 'requeued') continue; // its copy in the new batch is the one that counts
    const k = accOf(accs, r.sender).counters;
    k.messagesPlanned++;
    if (r.wecomStatus === 1 || r.wecomStatus === 2 || r.wecomStatus === 3) k.messagesConfirmed++;
    if (r.wecomStatus === 1) k.messagesSent++;
    if (r.status === 'cancelled' && r.reason === 'opted_out') k.messagesBlockedOptOut++;
  }
  return rows.length;
}

const isEmpty = (a: KpiAccumulator) => Object.values(a.counters).every((n) => n === 0);

/**
 * Recomputes one corp-local day of `kpi_daily` from that day's source documents only (every
 * query is an index range on the day), then replaces the day's documents: re-running with the
 * same data yields the same documents. Advisors without any count that day get no document.
 */
export async function rollupDay(input: RollupInput): Promise<RollupResult> {
  await ensureKpiIndexes();
  const { corpId, day } = input;
  const { start, end } = dayBounds(day, input.timeZone);
  const asOf = asOfFor(end, input.now);
  const accs: Accs = new Map();
  const tasks = await followUps(accs, corpId, start, end, asOf);
  const owners = await newOwners(accs, corpId, start, end);
  const rel = await relationships(accs, corpId, start, end);
  const execs = await executions(accs, corpId, start, end);
  const recipients = await messages(accs, corpId, start, end);
  const entries = [...accs.entries()].filter(([, a]) => !isEmpty(a));
  const advisors = await AdvisorModel.find(
    { corpId, userid: { $in: entries.map(([u]) => u) } },
    { userid: 1, departments: 1 },
  ).lean();
  const departments = new Map(advisors.map((a) => [a.userid, [...a.departments].sort((x, y) => x - y)]));
  if (entries.length) {
    await KpiDailyModel.bulkWrite(
      entries.map(([advisorUserid, a]) => ({
        replaceOne: {
          filter: { corpId, advisorUserid, day },
          replacement: {
            corpId,
            day,
            advisorUserid,
            departments: departments.get(advisorUserid) ?? [],
            counters: a.counters,
            dueToDone: a.dueToDone,
            addedByState: a.addedByState,
            asOf,
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }
  await KpiDailyModel.deleteMany({ corpId, day, advisorUserid: { $nin: entries.map(([u]) => u) } });
  if (!input.skipPeriods) await rollupPeriods(corpId, [day]);
  return {
    corpId,
    day,
    advisors: entries.length,
    asOf,
    docsRead: {
      tasks,
      customers: owners.customers,
      careTasks: owners.careTasks,
      relationshipsAdded: rel.added,
      relationshipsLost: rel.lost,
      executions: execs,
      recipients,
    },
  };
}

/** Rolls up every day in [from, to) (the backfill, tests, the bench). */
export async function rollupRange(
  input: Omit<RollupInput, 'day'> & { from: string; to: string },
  onDay?: (r: RollupResult, ms: number) => void,
): Promise<RollupResult[]> {
  const out: RollupResult[] = [];
  const days = daysBetween(input.from, input.to);
  for (const day of days) {
    const t0 = performance.now();
    const r = await rollupDay({ ...input, day, skipPeriods: true });
    onDay?.(r, performance.now() - t0);
    out.push(r);
  }
  await rollupPeriods(input.corpId, days);
  return out;
}

/** The days the nightly run recomputes: yesterday and the SETTLE_DAYS − 1 before it. */
export function settleWindow(today: string): { from: string; to: string } {
  return { from: addDays(today, -SETTLE_DAYS), to: today };
}
