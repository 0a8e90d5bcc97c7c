import { Types } from 'mongoose';
import type { DomainEvent } from '../events/domain-event.js';
import { withOutbox } from '../events/outbox.js';
import type { OutboxDeps } from '../events/outbox.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { readChannelOfState, type CorpReads } from '../corps/corp-read-cache.js';
import { ChannelAddModel } from './channel.model.js';

export interface AttributionResult {
  channelId?: string;
  kind?: string;
  unknown: boolean;
  vehicleLinked: boolean;
}

/**
 * Attributes an add (`customer.added` with a `state`) to its channel, campaign and advisor
 * (docs/acquisition.md "Attribution"). A state no channel knows is stored without a channel and
 * counted as "unknown channel", never dropped. A delivery-ceremony code made for one delivery
 * links its vehicle to the customer (the retention path then makes an owner, docs/architecture.md §5).
 * Idempotent: one record per (customer, advisor, state).
 */
export async function attributeAdd(
  deps: OutboxDeps & { corpId: string; reads?: Pick<CorpReads, 'channelOfState'> },
  event: DomainEvent,
): Promise<AttributionResult | undefined> {
  const state = typeof event.data.state === 'string' ? event.data.state : undefined;
  if (!state || !event.externalUserId || !event.userid) return undefined;
  // The worker's copy of the corp's channels when the deps carry it (corp-read-cache.ts).
  const channel = deps.reads?.channelOfState
    ? await deps.reads.channelOfState(deps.corpId, state)
    : await readChannelOfState(deps.corpId, state);
  const customerId =
    event.customerId && Types.ObjectId.isValid(event.customerId) ? new Types.ObjectId(event.customerId) : undefined;
  // Through the driver (docs/scale.md §4): the values are of their stored types and the schema
  // has no hooks or timestamps; an undefined value is left out, as the model leaves it out.
  await ChannelAddModel.collection.updateOne(
    { corpId: deps.corpId, externalUserId: event.externalUserId, userid: event.userid, state },
    {
      $setOnInsert: {
        channelId: channel?._id,
        campaign: channel?.campaign ?? undefined,
        customerId,
        at: new Date(event.occurredAt),
      },
    },
    { upsert: true, ignoreUndefined: true },
  );
  let vehicleLinked = false;
  if (channel?.kind === 'delivery' && channel.vehicleVin && customerId)
    vehicleLinked = await linkDeliveryVehicle(deps, channel.vehicleVin, customerId, event);
  return {
    channelId: channel ? String(channel._id) : undefined,
    kind: channel?.kind,
    unknown: !channel,
    vehicleLinked,
  };
}

/** Links the delivery's vehicle when it is not linked to anyone yet; emits `vehicle.linked`. */
async function linkDeliveryVehicle(
  deps: OutboxDeps & { corpId: string },
  vin: string,
  customerId: Types.ObjectId,
  event: DomainEvent,
): Promise<boolean> {
  return withOutbox(deps, async (events) => {
    const vehicle = await VehicleModel.findOneAndUpdate(
      { corpId: deps.corpId, vin, customerId: { $exists: false } },
      { $set: { customerId, externalUserId: event.externalUserId, linkedAt: new Date(event.occurredAt) } },
      { new: true },
    ).lean();
    if (!vehicle) return false;
    events.record({
      type: 'vehicle.linked',
      corpId: deps.corpId,
      sourceId: `vehicle-${vin}-${String(customerId)}`,
      occurredAt: event.occurredAt,
      customerId: String(customerId),
      externalUserId: event.externalUserId,
      vehicleId: String(vehicle._id),
      data: { vin, model: vehicle.model ?? null },
    });
    return true;
  });
}
