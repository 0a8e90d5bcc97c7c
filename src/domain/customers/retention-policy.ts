import { Types } from 'mongoose';
import type { DomainEvent } from '../events/domain-event.js';
import { describeTag } from './corp-tags.service.js';
import { relationshipOfPair } from './customer-rows.js';
import type { CustomerDeps } from './customer-deps.js';
import { recomputeResponsibleAdvisor } from './customer-refresh.service.js';
import { becomeOwner, type OwnerReason } from './owner.service.js';
import { RelationshipModel } from './relationship.model.js';
import { isDeliveryChannel, type RetentionSettings } from './retention-settings.js';

/**
 * Which domain events make a customer retained (docs/architecture.md §5): a linked vehicle, an add
 * through a delivery channel, or an advisor applying an owner tag. Returns the reason applied.
 */
export async function ownerReasonFor(
  deps: Pick<CustomerDeps, 'corpId' | 'api' | 'clock'>,
  settings: RetentionSettings,
  event: DomainEvent,
): Promise<OwnerReason | undefined> {
  switch (event.type) {
    case 'vehicle.linked':
      return settings.ownerOnVehicleLink ? 'vehicle_linked' : undefined;
    case 'customer.added':
      if (isDeliveryChannel(settings, typeof event.data.state === 'string' ? event.data.state : undefined))
        return 'delivery_channel';
      // A relationship first seen already carrying an owner tag (reconciliation after lost
      // callbacks, docs/reliability.md "Host crash") emits no tag_added: read the stored tags.
      return (await carriesOwnerTag(deps, settings, event)) ? 'owner_tag' : undefined;
    case 'customer.tag_added': {
      const tagId = event.data.tagId;
      if (typeof tagId !== 'string' || settings.ownerTagNames.length === 0) return undefined;
      const tag = await describeTag(deps, tagId);
      return tag && settings.ownerTagNames.includes(tag.name) ? 'owner_tag' : undefined;
    }
    default:
      return undefined;
  }
}

async function carriesOwnerTag(
  deps: Pick<CustomerDeps, 'corpId' | 'api' | 'clock'>,
  settings: RetentionSettings,
  event: DomainEvent,
): Promise<boolean> {
  if (settings.ownerTagNames.length === 0 || !event.externalUserId || !event.userid) return false;
  const rel =
    event.customerId && Types.ObjectId.isValid(event.customerId)
      ? await relationshipOfPair(deps.corpId, event.customerId, event.externalUserId, event.userid)
      : await RelationshipModel.findOne(
          { corpId: deps.corpId, externalUserId: event.externalUserId, userid: event.userid },
          { tagIds: 1 },
        ).lean();
  for (const tagId of rel?.tagIds ?? []) {
    const tag = await describeTag(deps, tagId);
    if (tag && settings.ownerTagNames.includes(tag.name)) return true;
  }
  return false;
}

/**
 * The retention part of the domain-event consumer: becomes owner (tagging every active
 * relationship) when the event calls for it, and keeps the responsible advisor right after a
 * vehicle link or a transfer. Idempotent, so a redelivered event finishes what a crash left.
 */
export async function applyRetentionPolicy(
  deps: CustomerDeps,
  settings: RetentionSettings,
  event: DomainEvent,
): Promise<OwnerReason | undefined> {
  if (!event.customerId || !Types.ObjectId.isValid(event.customerId)) return undefined;
  const customerId = new Types.ObjectId(event.customerId);
  if (event.type === 'vehicle.linked' || event.type === 'relationship.transferred') {
    await recomputeResponsibleAdvisor(deps.corpId, customerId);
  }
  const reason = await ownerReasonFor(deps, settings, event);
  if (reason)
    await becomeOwner(deps, settings, {
      customerId,
      reason,
      sourceId: `${event.type}-${event.sourceId}`,
      at: new Date(event.occurredAt),
      // An add through a delivery channel is made an owner by the refresh that recorded it.
      maybeOwnerAlready: event.type === 'customer.added' && reason === 'delivery_channel',
    });
  return reason;
}
