import { Types } from 'mongoose';
import { BroadcastModel, type BroadcastDocument } from './broadcast.model.js';
import type { Audience, BroadcastContent } from './broadcast-plan.js';

export interface NewBroadcast {
  name: string;
  audience: Audience;
  content: BroadcastContent;
  scheduledAt: Date;
  holdoutPercent?: number;
  monthlyCap?: number;
}

/** Roles that approve a dealer's broadcast (docs/engagement.md): a manager or the dealer admin. */
export const BROADCAST_APPROVER_ROLES = ['manager', 'dealer_admin', 'admin'] as const;

/** A dealer broadcast, waiting for approval. */
export async function createBroadcast(
  corpId: string,
  input: NewBroadcast,
  createdBy: string,
  parentId?: string,
): Promise<string> {
  const doc = await BroadcastModel.create({
    corpId,
    ...input,
    status: 'pending_approval',
    createdBy,
    ...(parentId ? { parentId: new Types.ObjectId(parentId) } : {}),
  });
  return String(doc._id);
}

/**
 * A car-maker broadcast: one copy per dealer corp, each waiting for that dealer's own approval
 * (the car maker never approves for a dealer). Returns the parent id and the copies.
 */
export async function pushOemBroadcast(
  dealerCorpIds: readonly string[],
  input: NewBroadcast,
  createdBy: string,
): Promise<{ parentId: string; copies: Array<{ corpId: string; id: string }> }> {
  const parentId = new Types.ObjectId().toHexString();
  const copies = [];
  for (const corpId of dealerCorpIds)
    copies.push({ corpId, id: await createBroadcast(corpId, input, createdBy, parentId) });
  return { parentId, copies };
}

/** Approves (or rejects) a waiting broadcast; false when it is not waiting any more. */
export async function decideBroadcast(
  corpId: string,
  id: string,
  decision: 'approve' | 'reject',
  by: string,
  at: Date,
): Promise<boolean> {
  const res = await BroadcastModel.updateOne(
    { _id: new Types.ObjectId(id), corpId, status: 'pending_approval' },
    {
      $set:
        decision === 'approve'
          ? { status: 'approved', approvedBy: by, approvedAt: at }
          : { status: 'rejected', approvedBy: by, approvedAt: at },
    },
  );
  return res.modifiedCount === 1;
}

/** Approved broadcasts whose time has come (the minute tick sends them). */
export async function dueBroadcasts(
  corpId: string,
  now: Date,
  limit = 20,
): Promise<Array<{ corpId: string; id: string }>> {
  const rows = await BroadcastModel.find(
    {
      corpId,
      status: 'approved',
      scheduledAt: { $lte: now },
      $or: [{ postponedTo: { $exists: false } }, { postponedTo: { $lte: now } }],
    },
    { corpId: 1 },
  )
    .limit(limit)
    .lean();
  return rows.map((r) => ({ corpId: r.corpId, id: String(r._id) }));
}

/**
 * Marks a broadcast cancelled unless it already ended; answers the status it had (undefined when
 * it was not cancellable). Tasks already handed to advisors are cancelled in WeCom by the worker
 * (`cancelOpenTasks`).
 */
export async function markBroadcastCancelled(
  corpId: string,
  id: string,
  at: Date,
): Promise<BroadcastDocument['status'] | undefined> {
  const before = await BroadcastModel.findOneAndUpdate(
    {
      _id: new Types.ObjectId(id),
      corpId,
      status: { $in: ['pending_approval', 'approved', 'sending', 'sent'] },
    },
    { $set: { status: 'cancelled', cancelledAt: at } },
  ).lean();
  return before?.status;
}
