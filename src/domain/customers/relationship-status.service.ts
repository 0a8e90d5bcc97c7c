import type { Types } from 'mongoose';
import { withOutbox, type EventRecorder } from '../events/outbox.js';
import type { CustomerDeps } from './customer-deps.js';
import { recomputeResponsibleAdvisor } from './customer-refresh.service.js';
import { CustomerModel } from './customer.model.js';
import { RelationshipModel, type RelationshipStatus } from './relationship.model.js';

export interface EndRelationshipInput {
  externalUserId: string;
  userid: string;
  status: Exclude<RelationshipStatus, 'active'>;
  /** The callback's CreateTime: a status change older than the stored one is ignored. */
  eventAt: Date;
  sourceId: string;
  /** Callback type or `reconciliation`, kept on the relationship. */
  cause: string;
}

export interface EndRelationshipResult {
  /** False when the event was a replay or older than what we know. */
  changed: boolean;
  customerId: Types.ObjectId;
  /** The customer had no active relationship left and became `lost`. */
  becameLost: boolean;
}

/**
 * Records that a relationship ended (`del_follow_user`, `del_external_contact`, a transfer).
 * A deletion that arrives before its add creates the relationship already ended, so the late
 * add cannot revive it (the add's time is older). Records `customer.lost` when the customer
 * deleted the advisor and nobody else follows them, `relationship.transferred` on a transfer, in
 * the outbox with the change (docs/reliability.md, "Domain events: the outbox").
 */
export async function endRelationship(deps: CustomerDeps, input: EndRelationshipInput): Promise<EndRelationshipResult> {
  const result = await withOutbox(deps, (events) => endRelationshipWith(deps, input, events));
  if (result.changed)
    deps.logger.info(
      {
        corpId: deps.corpId,
        userid: input.userid,
        status: input.status,
        becameLost: result.becameLost,
        loggedAt: deps.clock.now(),
      },
      'relationship ended',
    );
  return result;
}

async function endRelationshipWith(
  deps: CustomerDeps,
  input: EndRelationshipInput,
  events: EventRecorder,
): Promise<EndRelationshipResult> {
  const { corpId } = deps;
  const customer = await CustomerModel.findOneAndUpdate(
    { corpId, externalUserId: input.externalUserId },
    {
      $setOnInsert: {
        lifecycle: { stage: 'prospect', reason: 'added', changedAt: input.eventAt },
        lifecycleHistory: [],
      },
    },
    { upsert: true, returnDocument: 'after' },
  );
  const ended = { status: input.status, statusChangedAt: input.eventAt, statusCause: input.cause };
  // Only move forward in time. A replay finds the status already set; an add and a deletion in
  // the same second (CreateTime has whole seconds) resolve to the deletion.
  const update = await RelationshipModel.updateOne(
    {
      corpId,
      userid: input.userid,
      externalUserId: input.externalUserId,
      status: { $ne: input.status },
      $or: [{ statusChangedAt: { $lte: input.eventAt } }, { statusChangedAt: { $exists: false } }],
    },
    { $set: ended },
  );
  let changed = update.modifiedCount > 0;
  if (update.matchedCount === 0) {
    const created = await RelationshipModel.updateOne(
      { corpId, userid: input.userid, externalUserId: input.externalUserId },
      { $setOnInsert: { ...ended, customerId: customer._id } },
      { upsert: true },
    );
    changed = created.upsertedCount > 0;
  }
  const result: EndRelationshipResult = { changed, customerId: customer._id, becameLost: false };
  if (!changed) return result;

  await recomputeResponsibleAdvisor(corpId, customer._id);
  const base = {
    corpId,
    sourceId: input.sourceId,
    occurredAt: input.eventAt.toISOString(),
    customerId: String(customer._id),
    externalUserId: input.externalUserId,
    userid: input.userid,
  };
  if (input.status === 'transferred') {
    events.record({ ...base, type: 'relationship.transferred', data: { fromUserid: input.userid } });
  }
  if (input.status === 'deleted_by_customer') {
    const stillActive = await RelationshipModel.countDocuments({
      corpId,
      externalUserId: input.externalUserId,
      status: 'active',
    });
    if (stillActive === 0) {
      const lost = await CustomerModel.updateOne(
        { _id: customer._id, 'lifecycle.stage': { $ne: 'lost' } },
        {
          $set: { lifecycle: { stage: 'lost', reason: 'deleted_advisor', changedAt: input.eventAt } },
          $push: { lifecycleHistory: { stage: 'lost', reason: 'deleted_advisor', at: input.eventAt } },
        },
      );
      result.becameLost = lost.modifiedCount > 0;
    }
    // A customer who still has another advisor is not lost to the dealer; the loss alert still goes out.
    if (result.becameLost) events.record({ ...base, type: 'customer.lost' });
  }
  return result;
}
