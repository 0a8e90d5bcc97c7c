import { Types } from 'mongoose';
import { WecomApiError } from '../../wecom/errors.js';
import { MessageBatchModel } from '../messages/message.model.js';
import { openBroadcastConfirmTask } from '../tasks/broadcast-tasks.js';
import { BroadcastModel } from './broadcast.model.js';
import { BROADCAST_TIMING, type BroadcastDeps } from './broadcast.service.js';

/**
 * Advisors who have not confirmed a broadcast's mass send (docs/engagement.md, "Reminded, then the
 * task ladder"): `remindAfterMs` after the send was created, reminded once through
 * `remind_groupmsg_send` (WeCom allows 3 per message per 24 h; the bot uses one), and given a
 * `broadcast_confirm` follow-up task due at once, which the task ladder escalates to the manager
 * like any overdue task. The reminder is claimed by `remindedAt`, so a retried tick never sends
 * it twice; the task is opened for every reminded batch without one (`confirmTaskId`), so a run
 * that stopped between the two still ends with exactly one task (unique per batch).
 */
export async function remindUnconfirmed(
  deps: BroadcastDeps,
  broadcastId: string,
): Promise<{ reminded: string[]; tasksOpened: string[] }> {
  const now = deps.clock.nowMs();
  const reminded: string[] = [];
  const tasksOpened: string[] = [];
  const id = new Types.ObjectId(broadcastId);
  const batches = await MessageBatchModel.find({
    corpId: deps.corpId,
    broadcastId: id,
    status: 'created',
    confirmedAt: { $exists: false },
    msgid: { $exists: true },
    confirmTaskId: { $exists: false },
    // Escalated by the leader card of earlier versions: that escalation stands, no task follows.
    escalatedAt: { $exists: false },
  }).lean();
  if (batches.length === 0) return { reminded, tasksOpened };
  const broadcast = await BroadcastModel.findOne({ _id: id, corpId: deps.corpId }, { name: 1 }).lean();
  for (const batch of batches) {
    const age = now - (batch.createdTaskAt?.getTime() ?? now);
    if (!batch.remindedAt) {
      if (age < BROADCAST_TIMING.remindAfterMs) continue;
      const claimed = await MessageBatchModel.updateOne(
        { _id: batch._id, corpId: deps.corpId, remindedAt: { $exists: false } },
        { $set: { remindedAt: deps.clock.now() } },
      );
      if (claimed.modifiedCount !== 1) continue;
      try {
        await deps.api.remindGroupmsgSend(batch.msgid as string);
      } catch (err) {
        // 41094: WeCom's reminder limit reached today; the task and its ladder still follow.
        if (!(err instanceof WecomApiError) || err.retryable || err.errcode !== 41094) throw err;
      }
      reminded.push(batch.sender);
    }
    const task = await openBroadcastConfirmTask(deps.tasks, {
      broadcastId: id,
      messageBatchId: batch._id,
      advisorUserid: batch.sender,
      broadcastName: broadcast?.name ?? '营销群发',
    });
    await MessageBatchModel.updateOne(
      { _id: batch._id, corpId: deps.corpId },
      { $set: { confirmTaskId: new Types.ObjectId(task.taskId) } },
    );
    if (task.outcome === 'created') tasksOpened.push(batch.sender);
  }
  return { reminded, tasksOpened };
}
