import type { Types } from 'mongoose';
import { AdvisorModel } from '../customers/advisor.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { customerCtx, relationshipCtx, type PersonalData } from '../customers/personal-data.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { GroupModel } from '../groups/group.model.js';
import { TaskModel } from '../tasks/task.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import { nextMaintenanceDue } from './sidebar-view.js';

/** Why the member may see a group in the sidebar: they own it, administer it, or are in it. */
export type GroupRole = 'owner' | 'admin' | 'member';

/** Customers listed per group; a customer group holds at most a few hundred people. */
const MAX_CUSTOMERS = 200;

/**
 * The group a chat toolbar was opened in, and the signed-in member's role in it (undefined: not
 * theirs). Unknown group → `group` undefined.
 */
export async function sidebarGroupAccess(corpId: string, chatId: string, userid: string | undefined) {
  const group = await GroupModel.findOne(
    { corpId, chatId },
    { chatId: 1, name: 1, ownerUserid: 1, admins: 1, members: 1, memberCount: 1, customerCount: 1, status: 1 },
  ).lean();
  if (!group || !userid) return { group, role: undefined };
  const role: GroupRole | undefined =
    group.ownerUserid === userid
      ? 'owner'
      : group.admins.includes(userid)
        ? 'admin'
        : group.members.some((m) => m.type === 'staff' && m.memberId === userid)
          ? 'member'
          : undefined;
  return { group, role };
}

type LoadedGroup = NonNullable<Awaited<ReturnType<typeof sidebarGroupAccess>>['group']>;

/**
 * The sidebar's group view (docs/console.md, "Advisor sidebar"): the group's name, owner advisor
 * and counts, and its members who are customers of the dealer with a short summary each (the
 * viewer's remark else the WeCom name, lifecycle stage, vehicles with the next maintenance and
 * insurance expiry, open follow-ups and the earliest due). Personal values are opened for one
 * audited read; the caller checks the role and audits.
 */
export async function loadSidebarGroup(
  pd: PersonalData,
  corpId: string,
  group: LoadedGroup,
  viewer: { userid: string; role: GroupRole; timeZone: string; now: Date },
) {
  const customerIds = group.members
    .filter((m) => m.type === 'customer' && m.customerId)
    .map((m) => m.customerId as Types.ObjectId)
    .slice(0, MAX_CUSTOMERS);
  const [owner, customers, vehicles, tasks] = await Promise.all([
    group.ownerUserid
      ? AdvisorModel.findOne({ corpId, userid: group.ownerUserid }, { name: 1 }).lean()
      : Promise.resolve(null),
    CustomerModel.find(
      { corpId, _id: { $in: customerIds } },
      { externalUserId: 1, nameEnc: 1, lifecycle: 1, responsibleUserid: 1, erasedAt: 1 },
    ).lean(),
    VehicleModel.find(
      { corpId, customerId: { $in: customerIds } },
      { customerId: 1, model: 1, deliveryDate: 1, lastServiceDate: 1, insuranceExpiry: 1 },
    ).lean(),
    TaskModel.find(
      { corpId, customerId: { $in: customerIds }, status: 'open' },
      { customerId: 1, dueAt: 1, title: 1 },
    ).lean(),
  ]);
  const exts = customers.map((c) => c.externalUserId);
  const mine = await RelationshipModel.find(
    { corpId, externalUserId: { $in: exts }, userid: viewer.userid },
    { externalUserId: 1, remarkEnc: 1 },
  ).lean();
  const remarkOf = new Map(mine.map((r) => [r.externalUserId, r]));
  const key = (id: unknown) => String(id);
  return {
    chatId: group.chatId,
    name: group.name || undefined,
    owner: group.ownerUserid ? { userid: group.ownerUserid, name: owner?.name || group.ownerUserid } : undefined,
    memberCount: group.memberCount,
    customerCount: group.customerCount,
    dismissed: group.status === 'dismissed',
    role: viewer.role,
    customers: customers
      .filter((c) => !c.erasedAt)
      .map((c) => {
        const ref = { corpId, externalUserId: c.externalUserId };
        const rel = remarkOf.get(c.externalUserId);
        const remark = rel?.remarkEnc
          ? pd.openFor(relationshipCtx({ ...ref, userid: viewer.userid }, 'remarkEnc'), rel.remarkEnc)
          : undefined;
        const name = pd.openFor(customerCtx(ref, 'nameEnc'), c.nameEnc) || undefined;
        const open = tasks.filter((t) => key(t.customerId) === key(c._id)).sort((a, b) => +a.dueAt - +b.dueAt);
        return {
          id: String(c._id),
          displayName: remark || name || '客户',
          stage: c.lifecycle?.stage ?? 'prospect',
          responsible: c.responsibleUserid ?? undefined,
          vehicles: vehicles
            .filter((v) => key(v.customerId) === key(c._id))
            .map((v) => ({
              model: v.model ?? undefined,
              nextMaintenanceDue: nextMaintenanceDue(v, viewer.timeZone),
              insuranceExpiry: v.insuranceExpiry ?? undefined,
            })),
          openTasks: open.length,
          nextDue: open[0]
            ? { title: open[0].title, dueAt: open[0].dueAt, overdue: open[0].dueAt < viewer.now }
            : undefined,
        };
      }),
  };
}

export type SidebarGroupView = Awaited<ReturnType<typeof loadSidebarGroup>>;
