import { z } from 'zod';
import { ApiFault, parseBody } from '../server/api-fault.js';
import type { ApiRoutes, SandboxContext } from '../server/context.js';
import { newMsgId } from '../world/ids.js';
import type { CorpWorld, Follow, MassTask } from '../world/model.js';
import { findMember } from '../world/world.js';
import { DAY_MS, visibleFollows, visibleMember } from './helpers.js';
import { checkAttachments } from './media-check.js';

/** The welcome code window (docs/wecom.md §3.9): 20 s, single use. */
export const WELCOME_WINDOW_MS = 20_000;

const attachment = z
  .object({ msgtype: z.enum(['image', 'link', 'miniprogram', 'video', 'file']) })
  .catchall(z.unknown());
const welcomeSchema = z
  .object({
    welcome_code: z.string().optional(),
    text: z.object({ content: z.string().max(4000) }).optional(),
    attachments: z.array(attachment).max(9).default([]),
  })
  .refine((r) => r.text !== undefined || r.attachments.length > 0, {
    message: 'text and attachments cannot both be empty',
  });

const templateSchema = z.object({
  chat_type: z.enum(['single', 'group']).default('single'),
  external_userid: z.array(z.string()).max(10_000).optional(),
  chat_id_list: z.array(z.string()).max(2000).optional(),
  tag_filter: z.object({ group_list: z.array(z.object({ tag_list: z.array(z.string()).max(100) })) }).optional(),
  sender: z.string().optional(),
  allow_select: z.boolean().optional(),
  text: z.object({ content: z.string() }).optional(),
  attachments: z.array(attachment).max(9).default([]),
});

const msgidSchema = z.object({
  msgid: z.string().min(1),
  limit: z.number().int().min(1).max(1000).default(500),
  cursor: z.string().optional(),
});
const resultSchema = msgidSchema.extend({ userid: z.string().min(1) });

function task(corp: CorpWorld, msgid: string): MassTask {
  const found = corp.massTasks.find((t) => t.msgid === msgid);
  if (!found) throw new ApiFault(40058, 'invalid msgid');
  return found;
}

function matchesTagFilter(f: Follow, groups: ReadonlyArray<{ tag_list: string[] }>): boolean {
  return groups.every((g) => g.tag_list.length === 0 || g.tag_list.some((id) => f.tagIds.includes(id)));
}

/**
 * `chat_type: "group"` (docs/wecom.md §11.7): `sender` required, `chat_id_list` ≤ 2,000 groups the
 * sender owns; nothing is sent until the owner confirms.
 */
function addGroupTemplate(
  corp: CorpWorld,
  sb: SandboxContext,
  req: z.output<typeof templateSchema>,
): Record<string, unknown> {
  if (!req.sender) throw new ApiFault(40058, 'sender is required for chat_type group');
  if (req.external_userid?.length || req.allow_select)
    throw new ApiFault(40058, 'external_userid and allow_select are for chat_type single');
  if (!req.text && req.attachments.length === 0) throw new ApiFault(40058, 'text and attachments cannot both be empty');
  checkAttachments(corp, sb, req.attachments);
  const sender = visibleMember(corp, req.sender);
  const failList: string[] = [];
  const chats: Record<string, { status: number }> = {};
  const owned = corp.groups.filter((g) => !g.dismissed && g.owner.toLowerCase() === sender.userid.toLowerCase());
  for (const g of req.chat_id_list?.length
    ? req.chat_id_list.map((id) => owned.find((x) => x.chat_id === id) ?? id)
    : owned) {
    if (typeof g === 'string') failList.push(g);
    else chats[g.chat_id] = { status: 0 };
  }
  if (Object.keys(chats).length === 0) throw new ApiFault(41048, 'no sendable groups');
  const t: MassTask = {
    msgid: newMsgId(),
    createdAtMs: sb.clock.nowMs(),
    chatType: 'group',
    text: req.text?.content,
    attachments: req.attachments.length,
    senders: { [sender.userid]: { status: 0, customers: {} } },
    chats: { [sender.userid]: chats },
    cancelled: false,
    reminders: [],
  };
  corp.massTasks.push(t);
  return { msgid: t.msgid, fail_list: failList };
}

/** Welcome messages and advisor-confirmed mass sends (docs/wecom.md §3.9–§3.11). */
export const welcomeMassRoutes: ApiRoutes = {
  'externalcontact/send_welcome_msg': {
    method: 'POST',
    handler: ({ corp, body, sb }) => {
      const req = parseBody(welcomeSchema, body);
      if (!req.welcome_code) throw new ApiFault(41049, 'welcome code missing');
      const code = corp.welcomeCodes.find((c) => c.code === req.welcome_code);
      if (!code || code.used || sb.clock.nowMs() - code.issuedAtMs > WELCOME_WINDOW_MS)
        throw new ApiFault(41050, 'invalid welcome code');
      visibleMember(corp, code.userid);
      if (corp.welcomes.some((w) => w.userid === code.userid && w.external_userid === code.external_userid)) {
        code.used = true;
        throw new ApiFault(41051, 'externaluser has started chatting');
      }
      checkAttachments(corp, sb, req.attachments);
      code.used = true;
      corp.welcomes.push({
        atMs: sb.clock.nowMs(),
        userid: code.userid,
        external_userid: code.external_userid,
        text: req.text?.content,
        attachments: req.attachments.length,
      });
    },
  },
  'externalcontact/add_msg_template': {
    method: 'POST',
    handler: ({ corp, body, sb }) => {
      const req = parseBody(templateSchema, body);
      if (req.chat_type === 'group') return addGroupTemplate(corp, sb, req);
      if (!req.sender && !req.external_userid?.length && !req.tag_filter)
        throw new ApiFault(40058, 'sender, external_userid or tag_filter is required');
      if (!req.text && req.attachments.length === 0)
        throw new ApiFault(40058, 'text and attachments cannot both be empty');
      if (req.text && Buffer.byteLength(req.text.content) > 4000) throw new ApiFault(40058, 'text over 4000 bytes');
      checkAttachments(corp, sb, req.attachments);
      if (req.sender) visibleMember(corp, req.sender);
      const failList: string[] = [];
      const targets: Follow[] = [];
      if (req.external_userid?.length) {
        for (const ext of req.external_userid) {
          const follows = visibleFollows(
            corp,
            (f) => f.external_userid === ext && f.status === 'active' && (!req.sender || f.userid === req.sender),
          );
          // Pushed to the follower who last chatted; the sandbox takes the most recent add.
          const best = follows.sort((a, b) => b.createtime - a.createtime)[0];
          if (best) targets.push(best);
          else failList.push(ext);
        }
      } else {
        targets.push(
          ...visibleFollows(
            corp,
            (f) =>
              f.status === 'active' &&
              (!req.sender || f.userid === req.sender) &&
              (!req.tag_filter || matchesTagFilter(f, req.tag_filter.group_list)),
          ),
        );
      }
      if (targets.length === 0) throw new ApiFault(41048, 'no sendable customers');
      const t: MassTask = {
        msgid: newMsgId(),
        createdAtMs: sb.clock.nowMs(),
        chatType: 'single',
        text: req.text?.content,
        attachments: req.attachments.length,
        senders: {},
        cancelled: false,
        reminders: [],
      };
      for (const f of targets) {
        const s = (t.senders[f.userid] ??= { status: 0, customers: {} });
        s.customers[f.external_userid] = { status: 0 };
      }
      corp.massTasks.push(t);
      return { msgid: t.msgid, fail_list: failList };
    },
  },
  'externalcontact/get_groupmsg_task': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(msgidSchema, body);
      const t = task(corp, req.msgid);
      return {
        task_list: Object.entries(t.senders).map(([userid, s]) => ({
          userid,
          status: s.status,
          ...(s.sendTime ? { send_time: s.sendTime } : {}),
        })),
        next_cursor: '',
      };
    },
  },
  'externalcontact/get_groupmsg_send_result': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(resultSchema, body);
      const sender = task(corp, req.msgid).senders[findMember(corp, req.userid)?.userid ?? req.userid];
      const t = task(corp, req.msgid);
      if (t.chatType === 'group') {
        // Group sends list only the groups sent to (docs/wecom.md §11.7).
        const chats = Object.entries(t.chats?.[findMember(corp, req.userid)?.userid ?? req.userid] ?? {}).filter(
          ([, c]) => c.status === 1,
        );
        return {
          send_list: chats.map(([chat_id, c]) => ({ chat_id, userid: req.userid, status: 1, send_time: c.sendTime })),
          next_cursor: '',
        };
      }
      const rows = Object.entries(sender?.customers ?? {}).map(([external_userid, c]) => ({
        external_userid,
        userid: req.userid,
        status: c.status,
        ...(c.sendTime ? { send_time: c.sendTime } : {}),
      }));
      return { send_list: rows, next_cursor: '' };
    },
  },
  'externalcontact/remind_groupmsg_send': {
    method: 'POST',
    handler: ({ corp, body, sb }) => {
      const t = task(corp, parseBody(msgidSchema.pick({ msgid: true }), body).msgid);
      if (t.cancelled) throw new ApiFault(41093, 'task cancelled');
      const now = sb.clock.nowMs();
      if (t.reminders.filter((at) => now - at < DAY_MS).length >= 3)
        throw new ApiFault(41094, 'remind frequency out of limit');
      t.reminders.push(now);
    },
  },
  'externalcontact/cancel_groupmsg_send': {
    method: 'POST',
    handler: ({ corp, body }) => {
      task(corp, parseBody(msgidSchema.pick({ msgid: true }), body).msgid).cancelled = true;
    },
  },
};
