import { Types } from 'mongoose';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { CorpApi } from '../../wecom/corp-api.js';
import type { GroupChatGetResponse } from '../../wecom/endpoints/groups.js';
import { WecomApiError } from '../../wecom/errors.js';
import { CustomerModel } from '../customers/customer.model.js';
import { GroupMemberEventModel, GroupModel, joinSceneOf, type GroupDocument, type JoinScene } from './group.model.js';

/** What the group services need for one corp. */
export interface GroupDeps {
  corpId: string;
  api: CorpApi;
  clock: Clock;
  logger: Logger;
}

/**
 * Answers that mean the group is gone for this app: dismissed, unknown, or not a customer group
 * (docs/wecom.md §11.4: WeCom documents no code for a dismissed group).
 */
export const GROUP_GONE_ERRCODES = new Set([49008, 40050, 90501, 90509]);

type StoredMember = {
  memberId: string;
  type: 'staff' | 'customer';
  customerId?: Types.ObjectId;
  joinedAt: Date;
  joinScene: JoinScene;
  invitor?: string;
};

export interface RefreshResult {
  status: 'active' | 'dismissed' | 'skipped';
  joined: number;
  quit: number;
}

/**
 * Stores what `groupchat/get` returns now (docs/wecom.md §11.4): refetch, not delta, like
 * contacts (docs/architecture.md §11), so repeated and out-of-order `change_external_chat` events
 * all end in WeCom's state. Joins and quits are the difference to the stored member list, written
 * once each (history rows keyed by membership). A group WeCom no longer returns is dismissed.
 * `eventAt` dates the quits this refetch discovers (the callback's time when there is one).
 */
export async function refreshGroup(
  deps: GroupDeps,
  chatId: string,
  opts: { eventAt?: Date } = {},
): Promise<RefreshResult> {
  const fetchedAt = deps.clock.now();
  let wecom: GroupChatGetResponse['group_chat'] | undefined;
  try {
    wecom = (await deps.api.groupchatGet(chatId)).group_chat;
  } catch (err) {
    if (!(err instanceof WecomApiError) || !GROUP_GONE_ERRCODES.has(err.errcode)) throw err;
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const stored = await GroupModel.findOne({ corpId: deps.corpId, chatId }).lean();
    if (stored && stored.fetchedAt.getTime() > fetchedAt.getTime()) return { status: 'skipped', joined: 0, quit: 0 };
    if (!wecom) {
      const ok = await writeGroup(deps, chatId, stored, {
        status: 'dismissed',
        fetchedAt,
        dismissedAt: stored?.dismissedAt ?? opts.eventAt ?? fetchedAt,
        lastChangeAt: opts.eventAt ?? fetchedAt,
      });
      if (ok) return { status: 'dismissed', joined: 0, quit: 0 };
      continue;
    }
    const members = await linkMembers(deps.corpId, wecom.member_list);
    const before = new Map(((stored?.members ?? []) as StoredMember[]).map((m) => [m.memberId, m]));
    const after = new Map(members.map((m) => [m.memberId, m]));
    const joins = members.filter((m) => before.get(m.memberId)?.joinedAt.getTime() !== m.joinedAt.getTime());
    const quits = [...before.values()].filter(
      (m) => after.get(m.memberId)?.joinedAt.getTime() !== m.joinedAt.getTime(),
    );
    const ok = await writeGroup(deps, chatId, stored, {
      status: 'active',
      name: wecom.name,
      ownerUserid: wecom.owner,
      admins: (wecom.admin_list ?? []).map((a) => a.userid),
      members,
      memberCount: members.length,
      customerCount: members.filter((m) => m.type === 'customer').length,
      memberVersion: wecom.member_version,
      notice: wecom.notice ?? '',
      createdInWecomAt: new Date(wecom.create_time * 1000),
      fetchedAt,
      ...(joins.length || quits.length ? { lastChangeAt: opts.eventAt ?? fetchedAt } : {}),
    });
    if (!ok) continue;
    const quitAt = opts.eventAt ?? fetchedAt;
    await writeHistory(
      deps.corpId,
      chatId,
      joins.map((m) => ({ ...m, kind: 'join' as const, at: m.joinedAt })),
    );
    await writeHistory(
      deps.corpId,
      chatId,
      quits.map((m) => ({ ...m, kind: 'quit' as const, at: quitAt })),
    );
    return { status: 'active', joined: joins.length, quit: quits.length };
  }
  throw new Error(`group ${chatId}: five concurrent writers, giving up this time (the job retries)`);
}

/** Optimistic write: only if nobody stored a newer read meanwhile. */
async function writeGroup(
  deps: GroupDeps,
  chatId: string,
  stored: (GroupDocument & { _id: Types.ObjectId }) | null,
  set: Record<string, unknown>,
): Promise<boolean> {
  if (!stored) {
    try {
      await GroupModel.create({ corpId: deps.corpId, chatId, ...set });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }
  const res = await GroupModel.updateOne({ _id: stored._id, fetchedAt: stored.fetchedAt }, { $set: set });
  return res.matchedCount === 1;
}

async function linkMembers(
  corpId: string,
  list: GroupChatGetResponse['group_chat']['member_list'],
): Promise<StoredMember[]> {
  const externalIds = list.filter((m) => m.type === 2).map((m) => m.userid);
  const customers = externalIds.length
    ? await CustomerModel.find({ corpId, externalUserId: { $in: externalIds } }, { externalUserId: 1 }).lean()
    : [];
  const ids = new Map(customers.map((c) => [c.externalUserId, c._id]));
  return list.map((m) => ({
    memberId: m.userid,
    type: m.type === 1 ? 'staff' : 'customer',
    ...(ids.get(m.userid) ? { customerId: ids.get(m.userid) } : {}),
    joinedAt: new Date(m.join_time * 1000),
    joinScene: joinSceneOf(m.join_scene),
    ...(m.invitor?.userid ? { invitor: m.invitor.userid } : {}),
  }));
}

async function writeHistory(
  corpId: string,
  chatId: string,
  rows: Array<StoredMember & { kind: 'join' | 'quit'; at: Date }>,
): Promise<void> {
  for (const r of rows) {
    const key = `${chatId}|${r.memberId}|${r.kind}|${r.joinedAt.getTime()}`;
    await GroupMemberEventModel.updateOne(
      { key },
      {
        $setOnInsert: {
          key,
          corpId,
          chatId,
          memberId: r.memberId,
          type: r.type,
          ...(r.customerId ? { customerId: r.customerId } : {}),
          kind: r.kind,
          at: r.at,
          joinScene: r.joinScene,
        },
      },
      { upsert: true },
    );
  }
}

/**
 * Nightly reconciliation (docs/wecom.md §11.9): every group `groupchat/list` returns is refetched;
 * stored active groups it no longer returns are refetched too, which marks them dismissed when
 * WeCom says they are gone. Repairs dropped callbacks.
 */
export async function reconcileGroups(
  deps: GroupDeps,
): Promise<{ listed: number; refreshed: number; dismissed: number }> {
  const listed = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await deps.api.groupchatList({ limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const g of page.group_chat_list) listed.set(g.chat_id, g.status);
    cursor = page.next_cursor || undefined;
  } while (cursor);
  let refreshed = 0;
  let dismissed = 0;
  for (const [chatId, wecomStatus] of listed) {
    await refreshGroup(deps, chatId);
    await GroupModel.updateOne({ corpId: deps.corpId, chatId }, { $set: { wecomStatus } });
    refreshed++;
  }
  const stale = await GroupModel.find(
    { corpId: deps.corpId, status: 'active', chatId: { $nin: [...listed.keys()] } },
    { chatId: 1 },
  ).lean();
  for (const g of stale) {
    const r = await refreshGroup(deps, g.chatId);
    if (r.status === 'dismissed') dismissed++;
  }
  return { listed: listed.size, refreshed, dismissed };
}
