import type { Clock } from '../../../src/infra/clock.js';
import { deleteTags } from '../api/tags.js';
import { newTagId } from '../world/ids.js';
import type { CorpWorld } from '../world/model.js';
import { findFollow, findMember } from '../world/world.js';
import type { ActionInput } from './action-schemas.js';
import type { XmlField } from './event-xml.js';

type Fail = (message: string, status?: number) => Error;

/** Admin-console tag changes (not created by the app, so the app may not edit them). */
export function applyTagChange(
  corp: CorpWorld,
  a: ActionInput<'changeTags'>,
  nowSec: number,
  fail: Fail,
): { id: string; tagType: 'tag' | 'tag_group' } {
  const tagType = a.tagType ?? 'tag';
  switch (a.change) {
    case 'create': {
      let group = corp.tagGroups.find(
        (g) => g.group_id === a.groupId || (a.groupName !== undefined && g.group_name === a.groupName),
      );
      const createGroup = !group;
      if (!group) {
        if (!a.groupName) throw fail('create needs groupId or groupName');
        group = {
          group_id: newTagId(),
          group_name: a.groupName,
          create_time: nowSec,
          order: a.order ?? 0,
          createdByApp: false,
        };
        corp.tagGroups.push(group);
      }
      if (!a.name) throw fail('create needs a tag name (groups cannot be empty)');
      const tag = {
        id: newTagId(),
        name: a.name,
        group_id: group.group_id,
        create_time: nowSec,
        order: a.order ?? 0,
        createdByApp: false,
      };
      corp.tags.push(tag);
      return tagType === 'tag_group' || createGroup
        ? { id: group.group_id, tagType: 'tag_group' }
        : { id: tag.id, tagType: 'tag' };
    }
    case 'update': {
      const tag = corp.tags.find((t) => t.id === a.id);
      const group = corp.tagGroups.find((g) => g.group_id === a.id);
      if (!tag && !group) throw fail(`unknown tag or group ${a.id ?? ''}`, 404);
      if (tag)
        Object.assign(
          tag,
          a.name !== undefined ? { name: a.name } : {},
          a.order !== undefined ? { order: a.order } : {},
        );
      if (group)
        Object.assign(
          group,
          a.name !== undefined ? { group_name: a.name } : {},
          a.order !== undefined ? { order: a.order } : {},
        );
      return { id: a.id ?? '', tagType: tag ? 'tag' : 'tag_group' };
    }
    case 'delete': {
      const ids = new Set(corp.tags.filter((t) => t.id === a.id || t.group_id === a.id).map((t) => t.id));
      if (ids.size === 0) throw fail(`unknown tag or group ${a.id ?? ''}`, 404);
      const isGroup = corp.tagGroups.some((g) => g.group_id === a.id);
      deleteTags(corp, ids);
      return { id: a.id ?? '', tagType: isGroup ? 'tag_group' : 'tag' };
    }
    case 'shuffle':
      return { id: a.groupId ?? '', tagType: 'tag_group' };
  }
}

/**
 * Applies a member change and returns the reduced contact-sync payload (docs/wecom.md §1.1, since
 * 2022-08-15): create_user carries UserID and Department; update_user fires only on department,
 * leader or userid changes with UserID, Department and NewUserID; delete_user carries UserID.
 */
export function applyMemberChange(
  corp: CorpWorld,
  a: ActionInput<'changeMember'>,
  nowSec: number,
  fail: Fail,
): { fields: XmlField[]; notify: boolean } {
  const existing = findMember(corp, a.userid);
  if (a.change === 'create_user') {
    if (existing) throw fail(`member ${a.userid} exists`);
    const department = a.department ?? [1];
    corp.members.push({
      userid: a.userid,
      name: a.name ?? a.userid,
      department,
      isLeaderInDept: a.isLeaderInDept ?? department.map(() => 0),
      directLeader: a.directLeader ?? [],
      mainDepartment: department[0] ?? 1,
      position: a.position ?? '',
      status: 1,
      visible: true,
      customerContact: true,
    });
    return {
      fields: [
        ['UserID', a.userid],
        ['Department', department.join(',')],
      ],
      notify: true,
    };
  }
  if (!existing) throw fail(`unknown member ${a.userid}`, 404);
  if (a.change === 'delete_user') {
    existing.status = 5;
    existing.dimissionTime = nowSec;
    return { fields: [['UserID', existing.userid]], notify: true };
  }
  const deptChanged = a.department !== undefined && a.department.join(',') !== existing.department.join(',');
  const leaderChanged =
    (a.directLeader !== undefined && a.directLeader.join(',') !== existing.directLeader.join(',')) ||
    (a.isLeaderInDept !== undefined && a.isLeaderInDept.join(',') !== existing.isLeaderInDept.join(','));
  const idChanged = a.newUserId !== undefined && a.newUserId !== existing.userid;
  const oldId = existing.userid;
  if (a.name !== undefined) existing.name = a.name;
  if (a.position !== undefined) existing.position = a.position;
  if (a.department !== undefined) {
    existing.department = a.department;
    existing.mainDepartment = a.department[0] ?? existing.mainDepartment;
  }
  if (a.isLeaderInDept !== undefined) existing.isLeaderInDept = a.isLeaderInDept;
  if (a.directLeader !== undefined) existing.directLeader = a.directLeader;
  if (idChanged && a.newUserId) {
    existing.userid = a.newUserId;
    for (const f of corp.follows) if (f.userid === oldId) f.userid = a.newUserId;
  }
  return {
    fields: [
      ['UserID', oldId],
      ['Department', deptChanged ? existing.department.join(',') : undefined],
      ['NewUserID', idChanged ? a.newUserId : undefined],
    ],
    notify: deptChanged || leaderChanged || idChanged,
  };
}

/**
 * The advisor taps send on a mass-send task: each customer gets status 1 (sent), 2 (no longer a
 * friend) or 3 (monthly quota: as many per month as the month has days, docs/wecom.md §5).
 */
export function confirmMassSend(
  corp: CorpWorld,
  msgid: string,
  userid: string,
  clock: Clock,
  fail: Fail,
): { sent: number; notFriend: number; overQuota: number } {
  const task = corp.massTasks.find((t) => t.msgid === msgid);
  if (!task) throw fail(`unknown msgid ${msgid}`, 404);
  if (task.cancelled) throw fail('task was cancelled (41093)');
  const sender = task.senders[userid];
  if (!sender) throw fail(`${userid} has no task in ${msgid}`, 404);
  if (sender.status === 2) throw fail('already sent');
  const now = clock.at('Asia/Shanghai');
  const month = now.format('YYYY-MM');
  const quota = now.daysInMonth();
  const sendTime = Math.floor(clock.nowMs() / 1000);
  const counts = { sent: 0, notFriend: 0, overQuota: 0 };
  for (const [ext, row] of Object.entries(sender.customers)) {
    const follow = findFollow(corp, userid, ext);
    const key = `${ext}|${month}`;
    if (!follow || follow.status !== 'active') {
      row.status = 2;
      counts.notFriend += 1;
    } else if ((corp.massQuota[key] ?? 0) >= quota) {
      row.status = 3;
      counts.overQuota += 1;
    } else {
      corp.massQuota[key] = (corp.massQuota[key] ?? 0) + 1;
      row.status = 1;
      row.sendTime = sendTime;
      counts.sent += 1;
    }
  }
  for (const [chatId, row] of Object.entries(task.chats?.[userid] ?? {})) {
    const key = `${chatId}|${month}`;
    if ((corp.massQuota[key] ?? 0) >= quota) row.status = 3;
    else {
      corp.massQuota[key] = (corp.massQuota[key] ?? 0) + 1;
      row.status = 1;
      row.sendTime = sendTime;
      counts.sent += 1;
    }
  }
  sender.status = 2;
  sender.sendTime = sendTime;
  return counts;
}
