import type { Types } from 'mongoose';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { AdvisorModel } from './advisor.model.js';
import { CorpTagGroupModel } from './corp-tag.model.js';
import { CustomerModel } from './customer.model.js';
import {
  customerCtx,
  relationshipCtx,
  type CustomerSealedField,
  type PdContext,
  type PersonalData,
} from './personal-data.js';
import { RelationshipModel } from './relationship.model.js';

/**
 * Everything the console's customer profile shows (docs/console.md): who the customer is to the dealer
 * (relationships with advisor, added at, channel state, status), tags (names from the corp tag
 * cache), vehicles, the lifecycle and the reasons it changed. Personal values are opened here,
 * for one audited read; the caller scopes and audits.
 */
export async function loadCustomerProfile(pd: PersonalData, corpId: string, customerId: Types.ObjectId) {
  const c = await CustomerModel.findOne({ _id: customerId, corpId }).lean();
  if (!c) return undefined;
  const [relationships, vehicles] = await Promise.all([
    RelationshipModel.find({ corpId, customerId }).sort({ addedAt: -1 }).limit(50).lean(),
    VehicleModel.find({ corpId, customerId }).sort({ deliveryDate: -1 }).limit(20).lean(),
  ]);
  const userids = [
    ...new Set([...relationships.map((r) => r.userid), ...(c.responsibleUserid ? [c.responsibleUserid] : [])]),
  ];
  const tagIds = [...new Set(relationships.flatMap((r) => r.tagIds))];
  const [advisors, tagGroups] = await Promise.all([
    AdvisorModel.find({ corpId, userid: { $in: userids } }, { userid: 1, name: 1 }).lean(),
    tagIds.length
      ? CorpTagGroupModel.find({ corpId, 'tags.id': { $in: tagIds } }, { groupName: 1, tags: 1 }).lean()
      : Promise.resolve([]),
  ]);
  const advisorName = new Map(advisors.map((a) => [a.userid, a.name || a.userid]));
  const tagName = new Map(
    tagGroups.flatMap((g) => g.tags.map((t) => [t.id, { id: t.id, name: t.name, group: g.groupName }] as const)),
  );
  const erased = Boolean(c.erasedAt);
  // Each value opens only at its own customer/relationship and field (docs/security.md "Data at rest and in transit").
  const open = (ctx: PdContext, sealed: string | null | undefined) => (erased ? undefined : pd.openFor(ctx, sealed));
  const own = (field: CustomerSealedField, sealed: string | null | undefined) =>
    open(customerCtx({ corpId, externalUserId: c.externalUserId }, field), sealed);
  const remarkOf = (r: (typeof relationships)[number]) =>
    open(relationshipCtx({ corpId, externalUserId: r.externalUserId, userid: r.userid }, 'remarkEnc'), r.remarkEnc);
  const remarkRel =
    relationships.find((r) => r.userid === c.responsibleUserid && r.remarkEnc) ??
    relationships.find((r) => r.remarkEnc);
  return {
    id: String(c._id),
    corpId,
    externalUserId: c.externalUserId,
    type: c.type ?? 1,
    displayName: (remarkRel && remarkOf(remarkRel)) || own('nameEnc', c.nameEnc) || '',
    name: own('nameEnc', c.nameEnc),
    birthday: own('birthdayEnc', c.birthdayEnc),
    preferredContactTime: c.preferredContactTime ?? undefined,
    responsible: c.responsibleUserid
      ? { userid: c.responsibleUserid, name: advisorName.get(c.responsibleUserid) ?? c.responsibleUserid }
      : undefined,
    lifecycle: {
      stage: c.lifecycle?.stage ?? 'prospect',
      reason: c.lifecycle?.reason ?? 'added',
      changedAt: c.lifecycle?.changedAt ?? undefined,
    },
    lifecycleHistory: c.lifecycleHistory.map((h) => ({ stage: h.stage, reason: h.reason, at: h.at })),
    optOut: Boolean(c.optOut?.value),
    erasedAt: c.erasedAt ?? undefined,
    relationships: relationships.map((r) => ({
      userid: r.userid,
      advisorName: advisorName.get(r.userid) ?? r.userid,
      addedAt: r.addedAt ?? undefined,
      state: r.state ?? undefined,
      status: r.status,
      statusChangedAt: r.statusChangedAt ?? undefined,
      transferredTo: r.transferredTo ?? undefined,
      remark: remarkOf(r),
      tags: r.tagIds.map((id) => tagName.get(id) ?? { id, name: id, group: '' }),
    })),
    tags: tagIds.map((id) => tagName.get(id) ?? { id, name: id, group: '' }),
    vehicles: vehicles.map((v) => ({
      id: String(v._id),
      vin: v.vin,
      model: v.model ?? undefined,
      deliveryDate: v.deliveryDate ?? undefined,
      insuranceExpiry: v.insuranceExpiry ?? undefined,
      lastServiceDate: v.lastServiceDate ?? undefined,
      mileageKm: v.mileageKm ?? undefined,
      salesUserid: v.salesUserid ?? undefined,
    })),
  };
}
export type CustomerProfile = NonNullable<Awaited<ReturnType<typeof loadCustomerProfile>>>;
