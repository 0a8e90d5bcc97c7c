import { Types } from 'mongoose';
import type { DomainEvent } from '../events/domain-event.js';
import { CustomerModel } from '../customers/customer.model.js';
import { relationshipOfPair } from '../customers/customer-rows.js';
import { advanceLead, type LeadActionDeps } from './lead-actions.js';
import { ChannelModel } from './channel.model.js';
import { LeadModel } from './lead.model.js';

/**
 * Matches an add to a lead (docs/acquisition.md "Matching"): through the adding relationship's
 * remark mobiles (keyed hashes) first, else — for an add through the advisor's lead code — the
 * advisor's only open lead not yet on WeCom, or among several the one whose name hash equals the
 * customer's WeChat name hash. A match links the customer and moves the lead to
 * `added` (first contact recorded as `wecom_add` when none was). Ambiguity links nothing.
 */
export async function matchLeadOnAdd(
  deps: LeadActionDeps,
  event: DomainEvent,
  known: { channel?: { kind?: string } | null } = {},
): Promise<string | undefined> {
  if (event.type !== 'customer.added' || !event.externalUserId || !event.userid || !event.customerId) return undefined;
  const customerId = new Types.ObjectId(event.customerId);
  if (await LeadModel.exists({ corpId: deps.corpId, customerId })) return undefined;
  const open = {
    corpId: deps.corpId,
    outcome: { $exists: false },
    customerId: { $exists: false },
    stage: { $in: ['new', 'contacted'] as Array<'new' | 'contacted'> },
  };
  const rel = await relationshipOfPair(deps.corpId, customerId, event.externalUserId, event.userid);
  let candidates = rel?.remarkMobileHashes.length
    ? await LeadModel.find({ ...open, mobileHash: { $in: rel.remarkMobileHashes } }, { _id: 1 })
        .limit(2)
        .lean()
    : [];
  const state = typeof event.data.state === 'string' ? event.data.state : undefined;
  if (candidates.length === 0 && state) {
    // The attribution already read the state's channel (unique per corp and state): not again.
    const channel =
      'channel' in known
        ? known.channel?.kind === 'lead'
        : Boolean(await ChannelModel.findOne({ corpId: deps.corpId, state, kind: 'lead' }, { _id: 1 }).lean());
    if (channel) {
      const mine = await LeadModel.find({ ...open, advisorUserid: event.userid }, { _id: 1, nameHash: 1 })
        .limit(50)
        .lean();
      const customer = mine.length > 1 ? await CustomerModel.findById(customerId, { nameHash: 1 }).lean() : null;
      candidates = mine.length > 1 ? mine.filter((l) => customer?.nameHash && l.nameHash === customer.nameHash) : mine;
    }
  }
  if (candidates.length !== 1 || !candidates[0]) return undefined;
  const id = String(candidates[0]._id);
  await advanceLead(deps, id, 'added', `wecom:${event.userid}`, {
    via: 'wecom_add',
    customerId,
    externalUserId: event.externalUserId,
  });
  return id;
}
