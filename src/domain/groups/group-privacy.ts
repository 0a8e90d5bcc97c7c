import type { Types } from 'mongoose';
import { GroupMemberEventModel, GroupModel } from './group.model.js';

/**
 * Erasure (docs/data-inventory.md): the customer's `external_userid` in group member lists and in
 * the join/quit history becomes the pseudonym; counts stay. Returns the rows changed.
 */
export async function pseudonymiseGroupMember(corpId: string, ext: string, pseudonym: string): Promise<number> {
  let changed = 0;
  for (const g of await GroupModel.find({ corpId, 'members.memberId': ext }, { members: 1 }).lean()) {
    const members = g.members.map((m) => (m.memberId === ext ? { ...m, memberId: pseudonym } : m));
    await GroupModel.updateOne({ _id: g._id }, { $set: { members } });
    changed++;
  }
  for (const e of await GroupMemberEventModel.find({ corpId, memberId: ext }, { key: 1 }).lean()) {
    await GroupMemberEventModel.updateOne(
      { _id: e._id },
      { $set: { memberId: pseudonym, key: e.key.replace(`|${ext}|`, `|${pseudonym}|`) } },
    );
    changed++;
  }
  return changed;
}

/** Export: the groups the customer is in (only their own member entry) and their join/quit history. */
export async function groupsOfMember(
  corpId: string,
  customerId: Types.ObjectId,
  ext: string,
): Promise<{ groups: unknown[]; events: unknown[] }> {
  const mine = (m: { memberId: string; customerId?: Types.ObjectId | null }) =>
    m.memberId === ext || String(m.customerId) === String(customerId);
  const groups = await GroupModel.find(
    { corpId, $or: [{ 'members.customerId': customerId }, { 'members.memberId': ext }] },
    { chatId: 1, name: 1, ownerUserid: 1, status: 1, members: 1 },
  ).lean();
  const events = await GroupMemberEventModel.find({ corpId, $or: [{ customerId }, { memberId: ext }] }).lean();
  return { groups: groups.map((g) => ({ ...g, members: g.members.filter(mine) })), events };
}
