import type { Types } from 'mongoose';
import { CustomerModel } from '../customers/customer.model.js';
import { GroupMemberEventModel, GroupModel } from './group.model.js';

export interface GroupKpis {
  groups: number;
  activeGroups: number;
  dismissedInPeriod: number;
  members: number;
  customersInGroups: number;
  joins: number;
  quits: number;
  ownersInGroups: number;
  owners: number;
  /** ownersInGroups / owners, 0–1 (0 without owners). */
  ownerCoverage: number;
}

/**
 * Owner-group KPIs for a corp and a period (docs/engagement.md): groups and their members now;
 * customer joins and quits in [from, to); owners (lifecycle stage `owner`) who are in at least one
 * live group; active groups = live groups with a join or quit in the period. Optional filters
 * narrow to an owner advisor or a purpose tag.
 */
export async function groupKpis(
  corpId: string,
  period: { from: Date; to: Date },
  filter: { ownerUserid?: string; purposeTag?: string } = {},
): Promise<GroupKpis> {
  const scope = {
    corpId,
    ...(filter.ownerUserid ? { ownerUserid: filter.ownerUserid } : {}),
    ...(filter.purposeTag ? { purposeTags: filter.purposeTag } : {}),
  };
  const live = await GroupModel.find({ ...scope, status: 'active' }, { chatId: 1, memberCount: 1, members: 1 }).lean();
  const chatIds = live.map((g) => g.chatId);
  const customerIds = new Map<string, Types.ObjectId>();
  for (const g of live)
    for (const m of g.members) if (m.customerId) customerIds.set(String(m.customerId), m.customerId);
  const events = await GroupMemberEventModel.find(
    { corpId, chatId: { $in: chatIds }, type: 'customer', at: { $gte: period.from, $lt: period.to } },
    { chatId: 1, kind: 1 },
  ).lean();
  const ownersInGroups = customerIds.size
    ? await CustomerModel.countDocuments({
        corpId,
        _id: { $in: [...customerIds.values()] },
        'lifecycle.stage': 'owner',
        erasedAt: { $exists: false },
      })
    : 0;
  const owners = await CustomerModel.countDocuments({
    corpId,
    'lifecycle.stage': 'owner',
    erasedAt: { $exists: false },
  });
  return {
    groups: live.length,
    activeGroups: new Set(events.map((e) => e.chatId)).size,
    dismissedInPeriod: await GroupModel.countDocuments({
      ...scope,
      status: 'dismissed',
      dismissedAt: { $gte: period.from, $lt: period.to },
    }),
    members: live.reduce((n, g) => n + (g.memberCount ?? 0), 0),
    customersInGroups: customerIds.size,
    joins: events.filter((e) => e.kind === 'join').length,
    quits: events.filter((e) => e.kind === 'quit').length,
    ownersInGroups,
    owners,
    ownerCoverage: owners ? ownersInGroups / owners : 0,
  };
}
