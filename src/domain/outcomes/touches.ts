import type { Types } from 'mongoose';
import { CustomerModel } from '../customers/customer.model.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { ExecutionModel } from '../rules/engine/execution.model.js';
import { TaskModel, type TaskOutcome } from '../tasks/task.model.js';

/** One touch of a customer (docs/outcomes.md, "Touches"). */
export interface Touch {
  kind: 'task' | 'message' | 'welcome';
  refId: string;
  at: Date;
  ruleId?: Types.ObjectId;
  ruleVersion?: number;
  taskId?: Types.ObjectId;
  advisorUserid?: string;
  category?: string;
  taskOutcome?: string;
}

/** Tasks a customer declined are reported, not credited: only these task outcomes qualify. */
const QUALIFYING_TASK_OUTCOMES: TaskOutcome[] = ['contacted', 'appointment_booked'];
const KIND_RANK: Record<Touch['kind'], number> = { task: 0, message: 1, welcome: 2 };

/**
 * The touches of one customer in `[from, to]`: follow-up tasks done with a qualifying outcome,
 * customer messages WeCom reported sent (every record of the messages collection with status
 * `sent`, whatever sent it), and the welcome. Sorted by time, then task before message before
 * welcome, then id, so ties always resolve the same way.
 */
export async function touchesFor(corpId: string, customerId: Types.ObjectId, from: Date, to: Date): Promise<Touch[]> {
  const [tasks, messages, customer] = await Promise.all([
    TaskModel.find(
      {
        corpId,
        customerId,
        status: 'done',
        outcome: { $in: QUALIFYING_TASK_OUTCOMES },
        completedAt: { $gte: from, $lte: to },
      },
      { ruleId: 1, ruleVersion: 1, advisorUserid: 1, category: 1, outcome: 1, completedAt: 1 },
    ).lean(),
    MessageRecipientModel.find(
      { corpId, customerId, status: 'sent', sentAt: { $gte: from, $lte: to } },
      { ruleId: 1, ruleVersion: 1, sender: 1, sentAt: 1 },
    ).lean(),
    CustomerModel.findById(customerId, { externalUserId: 1 }).lean(),
  ]);
  const welcomes = customer?.externalUserId
    ? await ExecutionModel.find(
        {
          corpId,
          subject: `ext:${customer.externalUserId}`,
          actions: { $elemMatch: { type: 'welcome', status: 'done', at: { $gte: from, $lte: to } } },
        },
        { ruleId: 1, ruleVersion: 1, actions: 1 },
      ).lean()
    : [];
  const touches: Touch[] = [
    ...tasks.map((t) => ({
      kind: 'task' as const,
      refId: String(t._id),
      at: t.completedAt as Date,
      ruleId: t.ruleId ?? undefined,
      ruleVersion: t.ruleVersion ?? undefined,
      taskId: t._id,
      advisorUserid: t.advisorUserid,
      category: t.category ?? undefined,
      taskOutcome: t.outcome ?? undefined,
    })),
    ...messages.map((m) => ({
      kind: 'message' as const,
      refId: String(m._id),
      at: m.sentAt as Date,
      ruleId: m.ruleId ?? undefined,
      ruleVersion: m.ruleVersion ?? undefined,
      advisorUserid: m.sender,
    })),
    ...welcomes.map((w) => ({
      kind: 'welcome' as const,
      refId: String(w._id),
      at: w.actions.find((a) => a.type === 'welcome' && a.status === 'done')?.at as Date,
      ruleId: w.ruleId,
      ruleVersion: w.ruleVersion,
    })),
  ];
  return touches.sort(compareTouches);
}

export function compareTouches(a: Touch, b: Touch): number {
  return (
    a.at.getTime() - b.at.getTime() ||
    KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
    (a.refId < b.refId ? -1 : a.refId > b.refId ? 1 : 0)
  );
}
