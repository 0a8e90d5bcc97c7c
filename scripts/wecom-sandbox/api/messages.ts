import { z } from 'zod';
import { ApiFault, parseBody } from '../server/api-fault.js';
import type { ApiRoutes } from '../server/context.js';
import { newMsgId, newOpaque } from '../world/ids.js';
import { findMember } from '../world/world.js';
import { admitMessage } from '../server/member-limits.js';
import { DAY_MS } from './helpers.js';

/** response_code lifetime (docs/wecom.md §2.6, §3.13): 72 h, single use. */
export const RESPONSE_CODE_TTL_MS = 72 * 3600_000;
const INTERACTIVE = new Set(['button_interaction', 'vote_interaction', 'multiple_interaction']);
const TASK_ID_RE = /^[0-9A-Za-z_\-@]{1,128}$/;

const cardSchema = z
  .object({
    card_type: z.enum(['text_notice', 'news_notice', 'button_interaction', 'vote_interaction', 'multiple_interaction']),
    task_id: z.string().optional(),
    button_list: z
      .array(
        z.object({
          type: z.number().int().optional(),
          text: z.string(),
          style: z.number().int().min(1).max(4).optional(),
          key: z.string().max(1024).optional(),
          url: z.string().optional(),
        }),
      )
      .max(6)
      .optional(),
    horizontal_content_list: z.array(z.unknown()).max(6).optional(),
    jump_list: z.array(z.unknown()).max(3).optional(),
    action_menu: z
      .object({ action_list: z.array(z.unknown()).min(1).max(3) })
      .catchall(z.unknown())
      .optional(),
  })
  .catchall(z.unknown());

const sendSchema = z
  .object({
    touser: z.string().optional(),
    toparty: z.string().optional(),
    totag: z.string().optional(),
    msgtype: z.enum(['text', 'markdown', 'template_card']),
    agentid: z.number().int(),
    text: z.object({ content: z.string() }).optional(),
    markdown: z.object({ content: z.string() }).optional(),
    template_card: cardSchema.optional(),
  })
  .catchall(z.unknown());

const updateSchema = z
  .object({
    userids: z.array(z.string()).max(1000).optional(),
    partyids: z.array(z.number()).max(100).optional(),
    tagids: z.array(z.number()).max(100).optional(),
    atall: z.number().int().optional(),
    agentid: z.number().int(),
    response_code: z.string().min(1),
    button: z.object({ replace_name: z.string() }).optional(),
    template_card: cardSchema.optional(),
  })
  .catchall(z.unknown());

/** App messages, template cards and media (docs/wecom.md §3.12, §3.13, media upload). */
export const messageRoutes: ApiRoutes = {
  'message/send': {
    method: 'POST',
    handler: ({ corp, body, sb }) => {
      const req = parseBody(sendSchema, body);
      if (req.agentid !== corp.agentId) throw new ApiFault(40056, 'invalid agentid');
      if (!req.touser && !req.toparty && !req.totag)
        throw new ApiFault(40058, 'touser, toparty and totag cannot all be empty');
      const content =
        req.msgtype === 'text' ? req.text?.content : req.msgtype === 'markdown' ? req.markdown?.content : undefined;
      if (req.msgtype !== 'template_card' && content === undefined)
        throw new ApiFault(41016, `${req.msgtype}.content missing`);
      if (content !== undefined && Buffer.byteLength(content) > 2048)
        throw new ApiFault(40058, 'content over 2048 bytes');
      const requested =
        req.touser === '@all'
          ? corp.members.filter((m) => m.visible).map((m) => m.userid)
          : (req.touser ?? '').split('|').filter(Boolean);
      const valid: string[] = [];
      const invalid: string[] = [];
      for (const u of requested) {
        const m = findMember(corp, u);
        if (m && m.visible && m.status === 1) valid.push(m.userid.toLowerCase());
        else invalid.push(u.toLowerCase());
      }
      if (valid.length === 0) throw new ApiFault(81013, 'user & party & tag all invalid');
      // The app's daily recipient quota (docs/wecom.md §5); the corp's members stand in for its accounts.
      if (!sb.limits.takeAppDay(corp.corpId, corp.members.length, valid.length, sb.clock.nowMs()))
        throw new ApiFault(45009, 'api freq out of limit (app message quota of the day)');
      let responseCode: string | undefined;
      const card = req.template_card;
      if (admitMessage(sb, corp, valid, { msgtype: req.msgtype, taskId: card?.task_id }).length)
        throw new ApiFault(45009, 'api freq out of limit (app messages to one member)');
      if (card) {
        const interactive = INTERACTIVE.has(card.card_type) || card.action_menu !== undefined;
        if (interactive && !corp.callback.url) throw new ApiFault(43012, 'app has no callback url');
        if (card.task_id !== undefined || interactive) {
          if (!card.task_id || !TASK_ID_RE.test(card.task_id)) throw new ApiFault(42014, 'invalid task_id');
          if (corp.taskIds.includes(card.task_id)) throw new ApiFault(42014, 'task_id already used');
          corp.taskIds.push(card.task_id);
        }
        if (card.card_type === 'button_interaction') {
          if (!card.button_list?.length) throw new ApiFault(42018, 'button_list missing');
          if (card.button_list.some((b) => (b.type ?? 0) === 0 && !b.key))
            throw new ApiFault(42018, 'callback button without key');
        }
        if (interactive) {
          responseCode = newOpaque('rc', 40);
          corp.responseCodes.push({
            code: responseCode,
            taskId: card.task_id ?? '',
            userids: valid,
            issuedAtMs: sb.clock.nowMs(),
            used: false,
            source: 'send',
          });
        }
      }
      const msgid = newMsgId();
      // Beyond 30 a minute or 1,000 an hour a member gets nothing, and the call still succeeds (docs/wecom.md §5).
      const dropped = valid.filter((u) => !sb.limits.deliverToMember(corp.corpId, u, sb.clock.nowMs()));
      corp.messages.push({
        msgid,
        atMs: sb.clock.nowMs(),
        msgtype: req.msgtype,
        touser: valid.filter((u) => !dropped.includes(u)),
        ...(dropped.length ? { dropped } : {}),
        body: req,
        taskId: card?.task_id,
        responseCode,
      });
      return {
        invaliduser: invalid.join('|'),
        invalidparty: '',
        invalidtag: '',
        unlicenseduser: '',
        msgid,
        ...(responseCode ? { response_code: responseCode } : {}),
      };
    },
  },
  'message/update_template_card': {
    method: 'POST',
    handler: ({ corp, body, sb }) => {
      const req = parseBody(updateSchema, body);
      if (req.agentid !== corp.agentId) throw new ApiFault(40056, 'invalid agentid');
      if (!req.button && !req.template_card) throw new ApiFault(40058, 'button or template_card is required');
      const rc = corp.responseCodes.find((c) => c.code === req.response_code);
      if (!rc || rc.used || sb.clock.nowMs() - rc.issuedAtMs > RESPONSE_CODE_TTL_MS)
        throw new ApiFault(60140, 'invalid response_code');
      rc.used = true;
      corp.cardUpdates.push({ atMs: sb.clock.nowMs(), responseCode: rc.code, taskId: rc.taskId, body: req });
      const invalid = (req.userids ?? []).filter((u) => !rc.userids.includes(u.toLowerCase()));
      return { invaliduser: invalid };
    },
  },
  'media/upload': {
    method: 'POST',
    handler: ({ corp, query, upload, sb }) => {
      const type = query.type ?? '';
      if (!['image', 'voice', 'video', 'file'].includes(type)) throw new ApiFault(40004, 'invalid media type');
      if (!upload || upload.bytes === 0) throw new ApiFault(41005, 'media data missing');
      const media = { media_id: newOpaque('3', 60), type, createdAtMs: sb.clock.nowMs(), bytes: upload.bytes };
      corp.media.push(media);
      return { type, media_id: media.media_id, created_at: String(Math.floor(media.createdAtMs / 1000)) };
    },
  },
  'media/uploadimg': {
    method: 'POST',
    handler: ({ corp, upload, sb }) => {
      if (!upload || upload.bytes === 0) throw new ApiFault(41005, 'media data missing');
      const id = newOpaque('img', 24);
      corp.media.push({
        media_id: id,
        type: 'uploadimg',
        createdAtMs: sb.clock.nowMs() + 100 * 365 * DAY_MS,
        bytes: upload.bytes,
      });
      return { url: `${sb.baseUrl()}/__sandbox/media/${id}.png` };
    },
  },
};
