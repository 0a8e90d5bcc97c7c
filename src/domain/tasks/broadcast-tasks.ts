import type { Types } from 'mongoose';
import type { TaskDeps } from './task-deps.js';
import { requestNotify } from './task-notify.js';
import { openTaskFields } from './task.service.js';
import { TaskModel } from './task.model.js';

/** The advisor's broadcast mass send waiting for confirmation (ids and the broadcast's name only). */
export interface BroadcastConfirmInput {
  broadcastId: Types.ObjectId;
  messageBatchId: Types.ObjectId;
  advisorUserid: string;
  /** The broadcast's name, for the title 「确认营销群发：<name>」. */
  broadcastName: string;
}

type Deps = Pick<TaskDeps, 'corpId' | 'timeZone' | 'settings' | 'clock' | 'queues' | 'tuning'>;

export const broadcastConfirmTitle = (name: string): string => `确认营销群发：${name}`;

/**
 * Opens the follow-up task of an advisor reminded to confirm a broadcast's mass send
 * (docs/engagement.md, "Reminded, then the task ladder"): due at once, with the corp's SLA and
 * ladder like any task, so an unconfirmed send escalates to the manager through the task ladder
 * (docs/tasks.md). One task per message batch, ever: the upsert on the batch (unique index) makes
 * a retried tick or a second worker end in the same task.
 */
export async function openBroadcastConfirmTask(
  deps: Deps,
  input: BroadcastConfirmInput,
): Promise<{ outcome: 'created' | 'existing'; taskId: string }> {
  const now = deps.clock.now();
  const filter = { corpId: deps.corpId, messageBatchId: input.messageBatchId, kind: 'broadcast_confirm' as const };
  let created = false;
  try {
    const res = await TaskModel.updateOne(
      filter,
      {
        $setOnInsert: {
          ...filter,
          broadcastId: input.broadcastId,
          reason: input.broadcastName,
          category: 'other',
          advisorUserid: input.advisorUserid,
          title: broadcastConfirmTitle(input.broadcastName),
          ...openTaskFields(deps, {}, now, now),
          history: [
            {
              at: now,
              actor: 'system',
              action: 'created',
              detail: {
                broadcastId: String(input.broadcastId),
                messageBatchId: String(input.messageBatchId),
                advisor: input.advisorUserid,
              },
            },
          ],
        },
      },
      { upsert: true },
    );
    created = res.upsertedCount > 0;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
  }
  const task = await TaskModel.findOne(filter, { _id: 1 }).lean();
  if (!task) throw new Error(`broadcast confirmation task of batch ${String(input.messageBatchId)} vanished`);
  const taskId = String(task._id);
  if (created)
    await requestNotify(deps.queues, deps.corpId, input.advisorUserid, taskId, 0, deps.tuning.notifyDebounceMs);
  return { outcome: created ? 'created' : 'existing', taskId };
}

/** Why a confirmation task closes by itself: confirmed (done), or the send ended unconfirmed (cancelled). */
export type BroadcastConfirmClose =
  | { status: 'done'; reason: 'broadcast_confirmed' }
  | { status: 'cancelled'; reason: 'broadcast_cancelled' | 'mass_send_ended' };

/**
 * Closes the open confirmation task of these message batches (docs/engagement.md): `done` when
 * WeCom reports the advisor confirmed, `cancelled` when the broadcast was cancelled or the mass
 * send ended unconfirmed. Closing clears the checkpoint, so the ladder stops by itself. A system
 * completion, like an owner who became reachable (vehicle-tasks.ts): no outcome, no
 * `task.completed` event (there is no customer to attribute). Idempotent: only open tasks change.
 */
export async function closeBroadcastConfirmTasks(
  corpId: string,
  messageBatchIds: readonly Types.ObjectId[],
  close: BroadcastConfirmClose,
  at: Date,
): Promise<number> {
  if (messageBatchIds.length === 0) return 0;
  const res = await TaskModel.updateMany(
    { corpId, kind: 'broadcast_confirm', messageBatchId: { $in: [...messageBatchIds] }, status: 'open' },
    {
      $set: { status: close.status, notifyPending: false, ...(close.status === 'done' ? { completedAt: at } : {}) },
      $unset: { nextCheckpointAt: 1 },
      $push: {
        history: {
          at,
          actor: 'system',
          action: close.status === 'done' ? 'completed' : 'cancelled',
          detail: { reason: close.reason },
        },
      },
    },
  );
  return res.modifiedCount;
}

/** A broadcast's confirmation task as its progress shows it. */
export interface BroadcastConfirmTaskState {
  taskId: string;
  status: string;
  escalationLevel: number;
  /** When the ladder escalated it to the manager (level 2), if it did. */
  escalatedAt?: Date;
}

/** The confirmation tasks of one broadcast by message batch id (its progress per advisor). */
export async function broadcastConfirmTasks(
  corpId: string,
  broadcastId: Types.ObjectId,
): Promise<Map<string, BroadcastConfirmTaskState>> {
  const rows = await TaskModel.find(
    { corpId, broadcastId, kind: 'broadcast_confirm' },
    { messageBatchId: 1, status: 1, escalationLevel: 1, history: 1 },
  ).lean();
  return new Map(
    rows.map((t) => [
      String(t.messageBatchId),
      {
        taskId: String(t._id),
        status: t.status,
        escalationLevel: t.escalationLevel ?? 0,
        escalatedAt: t.history.find((e) => e.action === 'escalated')?.at ?? undefined,
      },
    ]),
  );
}
