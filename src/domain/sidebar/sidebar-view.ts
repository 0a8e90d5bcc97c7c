import type { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import { contentForCustomer } from '../content/content-for-customer.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { CorpTagGroupModel } from '../customers/corp-tag.model.js';
import { CustomerModel } from '../customers/customer.model.js';
import { customerCtx, relationshipCtx, type PersonalData } from '../customers/personal-data.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { renderTalkTrack } from '../tasks/task-card.js';
import { TaskModel } from '../tasks/task.model.js';
import { VehicleModel } from '../vehicles/vehicle.model.js';
import type { SidebarAccess } from './sidebar-access.js';
import { noteOf } from './sidebar-note.js';
import { loadResultTouches, type SidebarTouch } from './sidebar-touches.js';

/** Months from the last service (else the delivery) to the next maintenance (docs/console.md, "Advisor sidebar"). */
export const MAINTENANCE_INTERVAL_MONTHS = 6;
const TOUCH_LIMIT = 8;

/** Next maintenance: the last service (else the delivery) + the interval, as a corp-local day. */
export function nextMaintenanceDue(
  v: { lastServiceDate?: Date | null; deliveryDate?: Date | null },
  timeZone: string,
): Date | undefined {
  const base = v.lastServiceDate ?? v.deliveryDate;
  return base
    ? dayjs.utc(base).tz(timeZone).add(MAINTENANCE_INTERVAL_MONTHS, 'month').startOf('day').toDate()
    : undefined;
}

export interface SidebarCustomerRef {
  _id: Types.ObjectId;
  corpId: string;
  externalUserId: string;
}

/**
 * Everything the sidebar shows for one customer, for one member (docs/console.md, "Advisor
 * sidebar"): who they are (name, the member's remark), lifecycle and why, vehicles with the next
 * maintenance and the insurance expiry, the open tasks with rendered talk tracks, the last touches
 * (messages, tasks, and whatever other sources registered), tags, the opt-out state and the
 * content library's items for them. Personal
 * values are opened here for one audited read; the caller checks access and audits. Every query
 * goes through an index (customers, relationships, vehicles, tasks, message recipients).
 */
export async function loadSidebarView(
  pd: PersonalData,
  c: SidebarCustomerRef,
  viewer: { userid?: string; access: SidebarAccess; timeZone: string; now: Date },
) {
  const { corpId, externalUserId } = c;
  const [customer, relationships, vehicles, openTasks, recentTasks, messages] = await Promise.all([
    CustomerModel.findOne(
      { corpId, externalUserId },
      { nameEnc: 1, lifecycle: 1, optOut: 1, responsibleUserid: 1, erasedAt: 1, type: 1 },
    ).lean(),
    RelationshipModel.find(
      { corpId, externalUserId },
      { userid: 1, remarkEnc: 1, tagIds: 1, status: 1, addedAt: 1, noteEnc: 1, noteUpdatedAt: 1 },
    )
      .limit(20)
      .lean(),
    VehicleModel.find(
      { corpId, customerId: c._id },
      { vin: 1, model: 1, deliveryDate: 1, mileageKm: 1, lastServiceDate: 1, insuranceExpiry: 1 },
    )
      .sort({ deliveryDate: -1 })
      .limit(10)
      .lean(),
    TaskModel.find({ corpId, customerId: c._id, status: 'open' }, { history: 0 }).sort({ dueAt: 1 }).limit(10).lean(),
    TaskModel.find(
      { corpId, customerId: c._id, status: { $in: ['done', 'unreachable'] } },
      { title: 1, status: 1, outcome: 1, completedAt: 1, advisorUserid: 1, category: 1 },
    )
      .sort({ completedAt: -1 })
      .limit(TOUCH_LIMIT)
      .lean(),
    MessageRecipientModel.find(
      { corpId, customerId: c._id },
      { status: 1, sender: 1, sentAt: 1, createdAt: 1, reason: 1, source: 1 },
    )
      .sort({ createdAt: -1 })
      .limit(TOUCH_LIMIT)
      .lean(),
  ]);
  if (!customer) return undefined;
  const erased = Boolean(customer.erasedAt);
  const mine =
    relationships.find((r) => r.userid === viewer.userid) ??
    relationships.find((r) => r.userid === customer.responsibleUserid) ??
    relationships[0];
  const remark =
    mine && !erased
      ? pd.openFor(relationshipCtx({ corpId, externalUserId, userid: mine.userid }, 'remarkEnc'), mine.remarkEnc) ||
        undefined
      : undefined;
  const name = erased
    ? undefined
    : pd.openFor(customerCtx({ corpId, externalUserId }, 'nameEnc'), customer.nameEnc) || undefined;
  const tagIds = [...new Set((mine ? [mine] : relationships).flatMap((r) => r.tagIds))];
  const advisorIds = [
    ...new Set([...openTasks.map((t) => t.advisorUserid), ...(viewer.userid ? [viewer.userid] : [])]),
  ];
  const [tagGroups, advisors, extra] = await Promise.all([
    tagIds.length
      ? CorpTagGroupModel.find({ corpId, 'tags.id': { $in: tagIds } }, { groupName: 1, tags: 1 }).lean()
      : Promise.resolve([]),
    AdvisorModel.find({ corpId, userid: { $in: advisorIds } }, { userid: 1, name: 1 }).lean(),
    loadResultTouches(corpId, c._id, TOUCH_LIMIT),
  ]);
  const tagName = new Map(
    tagGroups.flatMap((g) => g.tags.map((t) => [t.id, { id: t.id, name: t.name, group: g.groupName }] as const)),
  );
  const advisorName = new Map(advisors.map((a) => [a.userid, a.name || a.userid]));
  const display = remark ?? name ?? '客户';
  const model = vehicles.find((v) => v.model)?.model ?? undefined;
  const stage = customer.lifecycle?.stage ?? 'prospect';
  const content = await contentForCustomer({
    corpId,
    stage,
    models: [...new Set(vehicles.flatMap((v) => (v.model ? [v.model] : [])))],
    vars: {
      customer: display,
      model,
      advisorName: (viewer.userid && advisorName.get(viewer.userid)) || viewer.userid || '您的顾问',
    },
    now: viewer.now,
  });

  const touches: SidebarTouch[] = [
    ...messages.map((m) => ({
      kind: 'message',
      at: m.sentAt ?? m.createdAt,
      what: m.source === 'sidebar' ? 'message.sidebar' : 'message.campaign',
      result: m.status,
      by: m.sender,
    })),
    ...recentTasks
      .filter((t) => t.completedAt)
      .map((t) => ({
        kind: 'task',
        at: t.completedAt as Date,
        what: t.category ? `task.${t.category}` : 'task',
        result: t.status === 'done' ? (t.outcome ?? 'done') : t.status,
        by: t.advisorUserid,
      })),
    ...extra,
  ]
    .sort((a, b) => b.at.getTime() - a.at.getTime())
    .slice(0, TOUCH_LIMIT);

  return {
    customer: {
      id: String(c._id),
      externalUserId,
      name,
      remark,
      displayName: display,
      type: customer.type ?? 1,
      erased,
      lifecycle: {
        stage,
        reason: customer.lifecycle?.reason ?? 'added',
        changedAt: customer.lifecycle?.changedAt ?? undefined,
      },
      optOut: {
        value: Boolean(customer.optOut?.value),
        at: customer.optOut?.at ?? undefined,
        source: customer.optOut?.source ?? undefined,
      },
      responsible: customer.responsibleUserid ?? undefined,
      relationshipStatus: mine?.status,
      addedAt: mine?.addedAt ?? undefined,
      tags: tagIds.map((id) => tagName.get(id) ?? { id, name: id, group: '' }),
      /** The advisor's note (sidebar-note.ts): the viewer's own relationship's, else the one shown. */
      note: mine && !erased ? noteOf(pd, { corpId, externalUserId }, mine, viewer.userid) : undefined,
    },
    access: viewer.access,
    vehicles: vehicles.map((v) => {
      return {
        id: String(v._id),
        model: v.model ?? undefined,
        vinTail: v.vin.slice(-6),
        deliveryDate: v.deliveryDate ?? undefined,
        mileageKm: v.mileageKm ?? undefined,
        lastServiceDate: v.lastServiceDate ?? undefined,
        insuranceExpiry: v.insuranceExpiry ?? undefined,
        nextMaintenanceDue: nextMaintenanceDue(v, viewer.timeZone),
      };
    }),
    tasks: openTasks.map((t) => {
      const advisor = advisorName.get(t.advisorUserid) ?? t.advisorUserid;
      return {
        id: String(t._id),
        title: t.title,
        reason: t.reason ?? undefined,
        category: t.category ?? undefined,
        dueAt: t.dueAt,
        overdue: t.dueAt.getTime() < viewer.now.getTime(),
        advisorUserid: t.advisorUserid,
        mine: t.advisorUserid === viewer.userid,
        talkTrack: renderTalkTrack(t.talkTrack, { customer: display, model, advisorName: advisor }),
      };
    }),
    touches,
    /** The content library's items for this customer, rendered (docs/console.md, "Content library"). */
    content,
  };
}

export type SidebarView = NonNullable<Awaited<ReturnType<typeof loadSidebarView>>>;
