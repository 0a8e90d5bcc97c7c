import { z } from 'zod';
import { ApiFault, parseBody } from '../server/api-fault.js';
import type { ApiRoutes, SandboxContext } from '../server/context.js';
import { newOpaque } from '../world/ids.js';
import type { CorpWorld, GroupChat } from '../world/model.js';
import { findMember } from '../world/world.js';
import { DAY_MS, pageOf, visibleMember } from './helpers.js';

const listSchema = z.object({
  status_filter: z.number().int().min(0).max(3).default(0),
  owner_filter: z.object({ userid_list: z.array(z.string()).max(100) }).optional(),
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(1000),
});
const getSchema = z.object({ chat_id: z.string().min(1), need_name: z.number().int().min(0).max(1).default(0) });
const transferSchema = z.object({
  chat_id_list: z.array(z.string().min(1)).min(1).max(100),
  new_owner: z.string().min(1),
});

/** Per new owner per day (docs/wecom.md §11.8). */
export const GROUP_TRANSFERS_PER_DAY = 300;
/** In-service moves per group per 90 days (docs/wecom.md §11.8). */
export const ONJOB_MOVES_PER_90_DAYS = 2;

/** Groups the app may see: the owner inside the visible range (docs/wecom.md §11). */
export function findGroup(corp: CorpWorld, chatId: string): GroupChat | undefined {
  return corp.groups.find((g) => g.chat_id === chatId);
}

function readableGroup(corp: CorpWorld, chatId: string): GroupChat {
  const group = findGroup(corp, chatId);
  // The documentation names no code for a dismissed group; the sandbox answers 49008 (docs/wecom.md §11.4).
  if (!group || group.dismissed) throw new ApiFault(49008, 'chat not exist or dismissed');
  if (!findMember(corp, group.owner)?.visible) throw new ApiFault(60011, 'owner outside the visible range');
  return group;
}

const transfersToday = new WeakMap<CorpWorld, Map<string, number>>();

function transfer(kind: 'onjob' | 'resigned') {
  return ({ corp, body, sb }: { corp: CorpWorld; body: unknown; sb: SandboxContext }) => {
    const req = parseBody(transferSchema, body);
    const taker = visibleMember(corp, req.new_owner);
    if (!taker.customerContact || taker.status !== 1)
      throw new ApiFault(40098, 'new owner is not activated or lacks customer contact');
    const now = sb.clock.nowMs();
    const day = new Date(now).toISOString().slice(0, 10);
    const counts = transfersToday.get(corp) ?? new Map<string, number>();
    transfersToday.set(corp, counts);
    const failed: Array<{ chat_id: string; errcode: number; errmsg: string }> = [];
    for (const chatId of req.chat_id_list) {
      const group = findGroup(corp, chatId);
      const fail = (errcode: number, errmsg: string) => failed.push({ chat_id: chatId, errcode, errmsg });
      if (!group || group.dismissed) {
        fail(90501, 'not a customer group');
        continue;
      }
      const owner = findMember(corp, group.owner);
      const left = owner?.status === 5;
      if (group.owner.toLowerCase() === taker.userid.toLowerCase()) {
        fail(90504, 'owner unchanged');
        continue;
      }
      if (kind === 'onjob' && left) {
        fail(90502, 'owner already resigned: use groupchat/transfer');
        continue;
      }
      if (kind === 'resigned') {
        if (!left) {
          fail(90500, 'owner has not resigned: use groupchat/onjob_transfer');
          continue;
        }
        if (group.status === 3) {
          fail(90508, 'already inherited');
          continue;
        }
        if (owner?.dimissionTime && now - owner.dimissionTime * 1000 > 365 * DAY_MS) {
          fail(90501, 'owner left more than a year ago');
          continue;
        }
      }
      if (
        kind === 'onjob' &&
        group.onjobMoves.filter((at) => now - at < 90 * DAY_MS).length >= ONJOB_MOVES_PER_90_DAYS
      ) {
        // The real code for this limit is not documented; the sandbox reuses 90507.
        fail(90507, 'group moved twice in 90 days');
        continue;
      }
      const key = `${day}|${group.owner.toLowerCase()}`;
      if ((counts.get(key) ?? 0) >= GROUP_TRANSFERS_PER_DAY) {
        fail(90507, 'over 300 groups of one owner today');
        continue;
      }
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (kind === 'onjob') group.onjobMoves.push(now);
      group.owner = taker.userid;
      group.status = kind === 'resigned' ? 3 : 0;
      group.admins = group.admins.filter((a) => a.toLowerCase() !== taker.userid.toLowerCase());
      if (!group.members.some((m) => m.userid.toLowerCase() === taker.userid.toLowerCase())) {
        group.members.push({ userid: taker.userid, type: 1, join_time: Math.floor(now / 1000), join_scene: 1 });
        group.member_version = newOpaque('', 32);
      }
    }
    return { failed_chat_list: failed };
  };
}

const templateAttachment = z.union([
  z.object({ image: z.object({ media_id: z.string().optional(), pic_url: z.string().optional() }) }),
  z.object({
    link: z.object({
      title: z.string().max(128),
      picurl: z.string().optional(),
      desc: z.string().max(512).optional(),
      url: z.string().min(1),
    }),
  }),
  z.object({
    miniprogram: z.object({ title: z.string().max(64), pic_media_id: z.string(), appid: z.string(), page: z.string() }),
  }),
  z.object({ file: z.object({ media_id: z.string() }) }),
  z.object({ video: z.object({ media_id: z.string() }) }),
]);
const templateBody = z.object({
  text: z.object({ content: z.string() }).optional(),
  image: z.unknown().optional(),
  link: z.unknown().optional(),
  miniprogram: z.unknown().optional(),
  file: z.unknown().optional(),
  video: z.unknown().optional(),
  notify: z.number().int().min(0).max(1).default(1),
});

/** WeCom keeps one attachment, by priority image > link > miniprogram > file > video (docs/wecom.md §11.6). */
function templateContent(body: unknown): { text?: string; attachment?: Record<string, unknown> } {
  const req = parseBody(templateBody, body);
  if (req.text && Buffer.byteLength(req.text.content) > 3000) throw new ApiFault(40058, 'text over 3000 bytes');
  let attachment: Record<string, unknown> | undefined;
  for (const kind of ['image', 'link', 'miniprogram', 'file', 'video'] as const) {
    if (req[kind] === undefined) continue;
    attachment = parseBody(templateAttachment, { [kind]: req[kind] }) as Record<string, unknown>;
    break;
  }
  if (!req.text && !attachment) throw new ApiFault(41089, 'text and attachment cannot both be empty');
  return { text: req.text?.content, attachment };
}

const MAX_TEMPLATES = 100;

/** Customer groups, owner transfers and group welcome templates (docs/wecom.md §11). */
export const groupRoutes: ApiRoutes = {
  'externalcontact/groupchat/list': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(listSchema, body);
      const owners = req.owner_filter?.userid_list.map((u) => u.toLowerCase());
      if (!owners && corp.members.filter((m) => m.visible).length > 1000)
        throw new ApiFault(81017, 'visible range over 1000 members: use owner_filter');
      const rows = corp.groups
        .filter((g) => !g.dismissed)
        .filter((g) => {
          const owner = findMember(corp, g.owner);
          if (!owner?.visible) return false;
          if (owners) return owners.includes(g.owner.toLowerCase());
          return owner.status !== 5; // resigned owners' groups only when named (docs/wecom.md §11.1)
        })
        .filter((g) => req.status_filter === 0 || g.status === req.status_filter)
        .map((g) => ({ chat_id: g.chat_id, status: g.status }));
      const { page, next } = pageOf(rows, req.cursor, req.limit);
      return { group_chat_list: page, next_cursor: next };
    },
  },
  'externalcontact/groupchat/get': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(getSchema, body);
      const g = readableGroup(corp, req.chat_id);
      return {
        group_chat: {
          chat_id: g.chat_id,
          name: g.name,
          owner: g.owner,
          create_time: g.create_time,
          notice: g.notice,
          member_list: g.members.map((m) => ({
            userid: m.userid,
            type: m.type,
            join_time: m.join_time,
            join_scene: m.join_scene,
            ...(m.invitor ? { invitor: { userid: m.invitor } } : {}),
            group_nickname: m.group_nickname ?? '',
            ...(req.need_name === 1 ? { name: m.name ?? '' } : {}),
          })),
          admin_list: g.admins.map((userid) => ({ userid })),
          member_version: g.member_version,
        },
      };
    },
  },
  'externalcontact/groupchat/onjob_transfer': { method: 'POST', handler: transfer('onjob') },
  'externalcontact/groupchat/transfer': { method: 'POST', handler: transfer('resigned') },
  'externalcontact/group_welcome_template/add': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const content = templateContent(body);
      if (corp.groupWelcomeTemplates.length >= MAX_TEMPLATES)
        throw new ApiFault(41055, 'group welcome templates over 100');
      const template_id = newOpaque('msg', 24);
      corp.groupWelcomeTemplates.push({ template_id, ...content, createdByApp: true });
      return { template_id };
    },
  },
  'externalcontact/group_welcome_template/edit': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const { template_id } = parseBody(z.object({ template_id: z.string().min(1) }).passthrough(), body);
      const t = corp.groupWelcomeTemplates.find((x) => x.template_id === template_id);
      if (!t) throw new ApiFault(40058, 'invalid template_id');
      if (!t.createdByApp) throw new ApiFault(41058, 'template not created by this app');
      Object.assign(t, { text: undefined, attachment: undefined }, templateContent(body));
    },
  },
  'externalcontact/group_welcome_template/get': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const { template_id } = parseBody(z.object({ template_id: z.string().min(1) }), body);
      const t = corp.groupWelcomeTemplates.find((x) => x.template_id === template_id);
      if (!t) throw new ApiFault(40058, 'invalid template_id');
      return { ...(t.text !== undefined ? { text: { content: t.text } } : {}), ...(t.attachment ?? {}) };
    },
  },
  'externalcontact/group_welcome_template/del': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const { template_id } = parseBody(z.object({ template_id: z.string().min(1) }), body);
      const t = corp.groupWelcomeTemplates.find((x) => x.template_id === template_id);
      if (!t) throw new ApiFault(40058, 'invalid template_id');
      if (!t.createdByApp) throw new ApiFault(41058, 'template not created by this app');
      corp.groupWelcomeTemplates = corp.groupWelcomeTemplates.filter((x) => x !== t);
    },
  },
};
