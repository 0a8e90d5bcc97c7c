import { newOpaque } from '../world/ids.js';
import type { CorpWorld, GroupChat } from '../world/model.js';
import { findCustomer, findMember } from '../world/world.js';
import type { ActionInput } from './action-schemas.js';
import type { XmlField } from './event-xml.js';

type Fail = (message: string, status?: number) => Error;

/**
 * A change to a customer group made in the client, applied to the world; returns the fields of the
 * `change_external_chat` event WeCom sends for it (docs/wecom.md §2.3, §11.4). The event's
 * `JoinScene` is 0 (invited) or 3 (QR), unlike `groupchat/get`'s 1/2/3.
 */
export function applyGroupChange(
  corp: CorpWorld,
  a: ActionInput<'changeGroup'>,
  nowSec: number,
  fail: Fail,
): { chatId: string; fields: XmlField[] } {
  const members = a.members ?? [];
  const memberType = (id: string): 1 | 2 => {
    if (findMember(corp, id)) return 1;
    if (findCustomer(corp, id)) return 2;
    throw fail(`unknown member or customer ${id}`, 404);
  };
  if (a.change === 'create') {
    const owner = a.owner ? findMember(corp, a.owner) : undefined;
    if (!owner) throw fail('create needs a known owner', 404);
    if (a.chatId && corp.groups.some((g) => g.chat_id === a.chatId)) throw fail(`group ${a.chatId} exists`);
    const ids = [owner.userid, ...members.filter((m) => m.toLowerCase() !== owner.userid.toLowerCase())];
    const group: GroupChat = {
      chat_id: a.chatId ?? newOpaque('wr', 30),
      name: a.name ?? '',
      owner: owner.userid,
      create_time: nowSec,
      notice: a.notice ?? '',
      members: ids.map((id) => ({
        userid: id,
        type: memberType(id),
        join_time: nowSec,
        join_scene: a.joinScene ?? 1,
        ...(id === owner.userid ? {} : { invitor: owner.userid }),
      })),
      admins: a.admins ?? [],
      member_version: newOpaque('', 32),
      dismissed: false,
      status: 0,
      onjobMoves: [],
    };
    corp.groups.push(group);
    return {
      chatId: group.chat_id,
      fields: [
        ['ChatId', group.chat_id],
        ['ChangeType', 'create'],
      ],
    };
  }
  const group = corp.groups.find((g) => g.chat_id === a.chatId);
  if (!group) throw fail(`unknown group ${a.chatId ?? ''}`, 404);
  if (group.dismissed) throw fail(`group ${group.chat_id} is dismissed`);
  const update = (detail: string, extra: XmlField[] = []): { chatId: string; fields: XmlField[] } => ({
    chatId: group.chat_id,
    fields: [['ChatId', group.chat_id], ['ChangeType', 'update'], ['UpdateDetail', detail], ...extra],
  });
  switch (a.change) {
    case 'add_member':
    case 'del_member': {
      if (members.length === 0) throw fail(`${a.change} needs members`);
      const last = group.member_version;
      if (a.change === 'add_member') {
        for (const id of members) {
          if (group.members.some((m) => m.userid === id)) throw fail(`${id} is already in the group`);
          group.members.push({
            userid: id,
            type: memberType(id),
            join_time: nowSec,
            join_scene: a.joinScene ?? 1,
            ...(a.joinScene === 3 ? {} : { invitor: group.owner }),
          });
        }
      } else {
        for (const id of members) {
          if (id === group.owner) throw fail('the owner cannot leave; change the owner or dismiss');
          if (!group.members.some((m) => m.userid === id)) throw fail(`${id} is not in the group`, 404);
        }
        group.members = group.members.filter((m) => !members.includes(m.userid));
        group.admins = group.admins.filter((u) => !members.includes(u));
      }
      group.member_version = newOpaque('', 32);
      const scene: XmlField =
        a.change === 'add_member' ? ['JoinScene', a.joinScene === 3 ? 3 : 0] : ['QuitScene', a.quitScene ?? 0];
      return update(a.change, [
        scene,
        ['MemChangeCnt', members.length],
        ['MemChangeList', members.map((id) => ['Item', id] as const)],
        ['LastMemVer', last],
        ['CurMemVer', group.member_version],
      ]);
    }
    case 'change_owner': {
      const owner = a.owner ? findMember(corp, a.owner) : undefined;
      if (!owner) throw fail('change_owner needs a known owner', 404);
      group.owner = owner.userid;
      if (!group.members.some((m) => m.userid === owner.userid)) {
        group.members.push({ userid: owner.userid, type: 1, join_time: nowSec, join_scene: 1 });
        group.member_version = newOpaque('', 32);
      }
      return update('change_owner');
    }
    case 'change_name':
      group.name = a.name ?? '';
      return update('change_name');
    case 'change_notice':
      group.notice = a.notice ?? '';
      return update('change_notice');
    case 'dismiss':
      group.dismissed = true;
      return {
        chatId: group.chat_id,
        fields: [
          ['ChatId', group.chat_id],
          ['ChangeType', 'dismiss'],
        ],
      };
  }
}
