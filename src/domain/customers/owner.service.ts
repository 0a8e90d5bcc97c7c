import type { Types } from 'mongoose';
import { withOutbox } from '../events/outbox.js';
import { rememberJobRead } from '../../infra/job-reads.js';
import { ensureCorpTags } from './corp-tags.service.js';
import type { CustomerDeps } from './customer-deps.js';
import { customerRowOf, relationshipRowsKey, relationshipRowsOf, vehicleRowsOf } from './customer-rows.js';
import { CustomerModel } from './customer.model.js';
import { RelationshipModel } from './relationship.model.js';
import type { RetentionSettings } from './retention-settings.js';

export type OwnerReason = 'vehicle_linked' | 'delivery_channel' | 'owner_tag' | 'lead_won';

export interface BecomeOwnerInput {
  customerId: Types.ObjectId;
  reason: OwnerReason;
  sourceId: string;
  at: Date;
  /**
   * The change that caused the event may have made the customer an owner already (an add through
   * a delivery channel does, in its own transaction, docs/scale.md §4): the job's customer row is
   * read first and no transaction is opened when the stage is already `owner`.
   */
  maybeOwnerAlready?: boolean;
}

/**
 * Makes the customer a retained customer (lifecycle `owner`, with reason and time), records
 * `customer.became_owner` once in the outbox with that change (docs/reliability.md, "Domain events:
 * the outbox"), and makes sure every active relationship carries the owner tags.
 * Safe to call again: the lifecycle changes once, the event has a deterministic id, and
 * tagging skips relationships that already carry the tags (so a retry finishes what failed).
 */
export async function becomeOwner(
  deps: CustomerDeps,
  settings: RetentionSettings,
  input: BecomeOwnerInput,
): Promise<{ changed: boolean; tagged: number }> {
  if (input.maybeOwnerAlready) {
    const current = await customerRowOf(deps.corpId, input.customerId);
    if (!current) return { changed: false, tagged: 0 };
    if (current.lifecycle?.stage === 'owner')
      return { changed: false, tagged: await applyOwnerTags(deps, settings, input.customerId) };
  }
  // Only the lifecycle change and its event are in the transaction: mark_tag calls stay outside.
  const { changed, customer } = await withOutbox(deps, async (events) => {
    // One command when the stage changes: the update returns what the event needs.
    const updated = await CustomerModel.findOneAndUpdate(
      { _id: input.customerId, corpId: deps.corpId, 'lifecycle.stage': { $ne: 'owner' } },
      {
        $set: { lifecycle: { stage: 'owner', reason: input.reason, changedAt: input.at } },
        $push: { lifecycleHistory: { stage: 'owner', reason: input.reason, at: input.at } },
      },
      { returnDocument: 'after', projection: { externalUserId: 1, lifecycle: 1 } },
    ).lean();
    const found =
      updated ?? (await CustomerModel.findById(input.customerId, { externalUserId: 1, lifecycle: 1 }).lean());
    if (updated) {
      events.record({
        type: 'customer.became_owner',
        corpId: deps.corpId,
        sourceId: input.sourceId,
        occurredAt: input.at.toISOString(),
        customerId: String(input.customerId),
        externalUserId: updated.externalUserId,
        data: { reason: input.reason },
      });
    }
    return { changed: Boolean(updated), customer: found };
  });
  if (!customer || customer.lifecycle?.stage !== 'owner') return { changed, tagged: 0 };
  const tagged = await applyOwnerTags(deps, settings, input.customerId);
  return { changed, tagged };
}

/**
 * Puts the owner tag (and the vehicle-model tag) on every active relationship with `mark_tag`,
 * one advisor after another (the client limits rate and concurrency; one call per pair avoids
 * 45035). Returns how many relationships were tagged now.
 */
export async function applyOwnerTags(
  deps: CustomerDeps,
  settings: RetentionSettings,
  customerId: Types.ObjectId,
): Promise<number> {
  const wanted: string[] = [];
  const ownerIds = await ensureCorpTags(deps, settings.ownerTag.group, [settings.ownerTag.name]);
  wanted.push(...ownerIds.values());
  if (settings.modelTagGroup) {
    const models = (await vehicleRowsOf(deps.corpId, customerId))
      .map((v) => v.model)
      .filter((m): m is string => Boolean(m));
    if (models.length > 0)
      wanted.push(
        ...(
          await ensureCorpTags(
            deps,
            settings.modelTagGroup,
            [...new Set(models)].map((m) => m.slice(0, 30)),
          )
        ).values(),
      );
  }
  // The job's rows (src/domain/customers/customer-rows.ts): the active ones, by advisor.
  const rows = await relationshipRowsOf(deps.corpId, customerId);
  const relationships = rows
    .filter((rel) => rel.status === 'active')
    .sort((a, b) => (a.userid < b.userid ? -1 : a.userid > b.userid ? 1 : 0));
  const added = new Map<string, string[]>();
  for (const rel of relationships) {
    const missing = wanted.filter((id) => !(rel.tagIds ?? []).includes(id));
    if (missing.length === 0) continue;
    await deps.api.markTag({ userid: rel.userid, external_userid: rel.externalUserId, add_tag: missing });
    // API changes produce no callback (docs/wecom.md §2.2), so record the tags ourselves.
    await RelationshipModel.updateOne(
      { _id: rel._id, corpId: deps.corpId },
      { $addToSet: { tagIds: { $each: missing } } },
    );
    added.set(String(rel._id), missing);
  }
  // The rows as these writes left them, for the job's later consumers (the rule context).
  if (added.size > 0)
    rememberJobRead(
      relationshipRowsKey(deps.corpId, customerId),
      rows.map((rel) => {
        const missing = added.get(String(rel._id));
        return missing ? { ...rel, tagIds: [...(rel.tagIds ?? []), ...missing] } : rel;
      }),
    );
  return added.size;
}
