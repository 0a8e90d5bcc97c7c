import type { Types } from 'mongoose';
import { CustomerModel } from '../customers/customer.model.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { ExecutionModel } from '../rules/engine/execution.model.js';
import { TaskModel, type TaskOutcome } from '../tasks/task.model.js';

/** One touch of a customer (docs/outcomes.md, "Touches"). */
export interface Touch {
  kind: 'task' | 'message' | 'broadcast' | 'welcome';
  refId: string;
  at: Date;
  ruleId?: Types.ObjectId;
  ruleVersion?: number;
  taskId?: Types.ObjectId;
  advisorUserid?: string;
  category?: string;
  taskOutcome?: string;
  /** The broadcast a `broadcast` touch came from, so reports can name it. */
  broadcastId?: Types.ObjectId;
}

/** Tasks a customer declined are reported, not credited: only these task outcomes qualify. */
const QUALIFYING_TASK_OUTCOMES: TaskOutcome[] = ['contacted', 'appointment_booked'];
/** The dev server's planner turns at most this many `$in` values into index ranges (docs/dev-mongo.md). */
const IN_CHUNK = 1000;
/**
 * Ties on time (docs/outcomes.md, "Attribution"): a task the advisor did beats a personal or rule
 * message, which beats a broadcast (one mass send to a whole audience), which beats the welcome.
 */
const KIND_RANK: Record<Touch['kind'], number> = { task: 0, message: 1, broadcast: 2, welcome: 3 };

/**
 * The touches of one customer in `[from, to]`: follow-up tasks done with a qualifying outcome,
 * customer messages WeCom reported sent (every record of the messages collection with status
 * `sent`; those with `source: broadcast` are `broadcast` touches, the others `message`), and the
 * welcome. A broadcast's held-out customers are recorded `cancelled`, so they are never touches.
 * Sorted by time, then task, message, broadcast, welcome, then id, so ties always resolve the
 * same way.
 */
export async function touchesFor(corpId: string, customerId: Types.ObjectId, from: Date, to: Date): Promise<Touch[]> {
  return (await touchesForCustomers(corpId, [customerId], from, to)).get(String(customerId)) ?? [];
}

/**
 * The touches of many customers in `[from, to]` (same rules and order as `touchesFor`), keyed by
 * customer id: one query per source collection for the whole set, so a batch of outcomes or a
 * dealer-year costs a few round trips, not a few per outcome.
 */
export async function touchesForCustomers(
  corpId: string,
  customerIds: readonly Types.ObjectId[],
  from: Date,
  to: Date,
): Promise<Map<string, Touch[]>> {
  if (customerIds.length === 0) return new Map();
  return readTouches(corpId, { $in: [...customerIds] }, from, to);
}

/**
 * Every touch of a corp in `[from, to]`, keyed by customer id (same rules and order as
 * `touchesFor`): one read per source over the period, with projections, for a recomputation that
 * attributes a whole period in memory (docs/outcomes.md, "Recomputation").
 */
export async function touchesForCorp(corpId: string, from: Date, to: Date): Promise<Map<string, Touch[]>> {
  return readTouches(corpId, undefined, from, to);
}

async function readTouches(
  corpId: string,
  customers: { $in: Types.ObjectId[] } | undefined,
  from: Date,
  to: Date,
): Promise<Map<string, Touch[]>> {
  const byCustomer = new Map<string, Touch[]>();
  const ofCustomers = customers ? { customerId: customers } : {};
  const [tasks, messages, customerRows] = await Promise.all([
    TaskModel.find(
      {
        corpId,
        ...ofCustomers,
        status: 'done',
        outcome: { $in: QUALIFYING_TASK_OUTCOMES },
        completedAt: { $gte: from, $lte: to },
      },
      { customerId: 1, ruleId: 1, ruleVersion: 1, advisorUserid: 1, category: 1, outcome: 1, completedAt: 1 },
    ).lean(),
    MessageRecipientModel.find(
      { corpId, ...ofCustomers, status: 'sent', sentAt: { $gte: from, $lte: to } },
      { customerId: 1, ruleId: 1, ruleVersion: 1, sender: 1, sentAt: 1, source: 1, broadcastId: 1 },
    ).lean(),
    customers ? CustomerModel.find({ corpId, _id: customers }, { externalUserId: 1 }).lean() : [],
  ]);
  // Welcomes are keyed by the contact (`ext:<external user id>`); a corp-wide read finds the
  // welcomes first (an execution is created before its action runs, so `createdAt <= to`) and
  // then only their customers.
  const customerBySubject = new Map(
    customerRows.filter((c) => c.externalUserId).map((c) => [`ext:${c.externalUserId}`, String(c._id)]),
  );
  const welcomeAction = { $elemMatch: { type: 'welcome', status: 'done', at: { $gte: from, $lte: to } } };
  const welcomes =
    customers && customerBySubject.size === 0
      ? []
      : await ExecutionModel.find(
          customers
            ? { corpId, subject: { $in: [...customerBySubject.keys()] }, actions: welcomeAction }
            : { corpId, createdAt: { $lte: to }, actions: welcomeAction },
          { subject: 1, ruleId: 1, ruleVersion: 1, actions: 1 },
        ).lean();
  if (!customers && welcomes.length > 0) {
    const ids = [...new Set(welcomes.flatMap((w) => (w.subject.startsWith('ext:') ? [w.subject.slice(4)] : [])))];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const rows = await CustomerModel.find(
        { corpId, externalUserId: { $in: ids.slice(i, i + IN_CHUNK) } },
        { externalUserId: 1 },
      ).lean();
      for (const c of rows) customerBySubject.set(`ext:${c.externalUserId}`, String(c._id));
    }
  }
  const add = (customer: string | undefined, touch: Touch) => {
    if (!customer) return;
    const list = byCustomer.get(customer);
    if (list) list.push(touch);
    else byCustomer.set(customer, [touch]);
  };
  for (const t of tasks)
    add(String(t.customerId), {
      kind: 'task',
      refId: String(t._id),
      at: t.completedAt as Date,
      ruleId: t.ruleId ?? undefined,
      ruleVersion: t.ruleVersion ?? undefined,
      taskId: t._id,
      advisorUserid: t.advisorUserid,
      category: t.category ?? undefined,
      taskOutcome: t.outcome ?? undefined,
    });
  for (const m of messages)
    add(String(m.customerId), {
      kind: m.source === 'broadcast' ? 'broadcast' : 'message',
      refId: String(m._id),
      at: m.sentAt as Date,
      ruleId: m.ruleId ?? undefined,
      ruleVersion: m.ruleVersion ?? undefined,
      advisorUserid: m.sender,
      broadcastId: m.broadcastId ?? undefined,
    });
  for (const w of welcomes)
    add(customerBySubject.get(w.subject), {
      kind: 'welcome',
      refId: String(w._id),
      at: w.actions.find((a) => a.type === 'welcome' && a.status === 'done')?.at as Date,
      ruleId: w.ruleId,
      ruleVersion: w.ruleVersion,
    });
  for (const list of byCustomer.values()) list.sort(compareTouches);
  return byCustomer;
}

export function compareTouches(a: Touch, b: Touch): number {
  return (
    a.at.getTime() - b.at.getTime() ||
    KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
    (a.refId < b.refId ? -1 : a.refId > b.refId ? 1 : 0)
  );
}
