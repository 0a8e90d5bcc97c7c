import { z } from 'zod';
import { ApiFault, parseBody } from '../server/api-fault.js';
import type { ApiRoutes, SandboxContext } from '../server/context.js';
import { newOpaque } from '../world/ids.js';
import type { CorpWorld, MomentTask } from '../world/model.js';
import { findMember } from '../world/world.js';
import { pageOf } from './helpers.js';
import { checkMomentMedia } from './moment-media.js';

const taskSchema = z.object({
  text: z.object({ content: z.string() }).optional(),
  attachments: z.array(z.object({ msgtype: z.string() }).catchall(z.unknown())).default([]),
  visible_range: z
    .object({
      sender_list: z
        .object({
          user_list: z.array(z.string()).max(100_000).default([]),
          department_list: z.array(z.number().int()).default([]),
        })
        .optional(),
      external_contact_list: z.object({ tag_list: z.array(z.string()).default([]) }).optional(),
    })
    .optional(),
});
const momentSchema = z.object({
  moment_id: z.string().min(1),
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(1000).default(500),
});
const sendResultSchema = momentSchema.extend({
  userid: z.string().min(1),
  limit: z.number().int().min(1).max(5000).default(3000),
});

/** Creations per minute per corp (docs/wecom.md §12.1). */
export const MOMENT_TASKS_PER_MINUTE = 10;

/**
 * WeCom's attachment rules for a Moments task (docs/wecom.md §12.1): one kind (41065), at most 9
 * images or 1 video or 1 link (41064), each media id a live Moments attachment (40007/40145), a
 * link's url with a protocol (45034) and title ≤ 64 characters.
 */
function checkAttachments(corp: CorpWorld, sb: SandboxContext, attachments: Array<Record<string, unknown>>): void {
  const kinds = new Set(attachments.map((a) => a.msgtype));
  for (const kind of kinds)
    if (kind !== 'image' && kind !== 'video' && kind !== 'link')
      throw new ApiFault(41065, 'invalid attachments msgtype');
  if (kinds.size > 1) throw new ApiFault(41065, 'invalid attachments msgtype');
  const max = kinds.has('image') ? 9 : 1;
  if (attachments.length > max) throw new ApiFault(41064, 'invalid attachments size');
  for (const a of attachments) {
    const body = (a[a.msgtype as string] ?? {}) as Record<string, unknown>;
    if (a.msgtype === 'link') {
      const url = typeof body.url === 'string' ? body.url : '';
      if (!url) throw new ApiFault(41010, 'url missing');
      if (!/^https?:\/\//.test(url)) throw new ApiFault(45034, 'url must have a protocol');
      if (typeof body.title === 'string' && [...body.title].length > 64)
        throw new ApiFault(40058, 'invalid title size');
      checkMomentMedia(corp, sb, body.media_id, 'image');
    } else checkMomentMedia(corp, sb, body.media_id, a.msgtype as 'image' | 'video');
  }
}

function moment(corp: CorpWorld, id: string): MomentTask {
  const m = corp.moments.find((x) => x.moment_id === id);
  if (!m) throw new ApiFault(41060, 'invalid moment_id');
  return m;
}

/** Corp Moments tasks (docs/wecom.md §12): create (asynchronous job), results, cancel. */
export const momentRoutes: ApiRoutes = {
  'externalcontact/add_moment_task': {
    method: 'POST',
    handler: ({ corp, body, sb }) => {
      const req = parseBody(taskSchema, body);
      if (!req.text?.content && req.attachments.length === 0)
        throw new ApiFault(41089, 'text and attachments cannot both be empty');
      // WeCom counts characters, at most 2,000 (docs/wecom.md §12.1); its code for this is not documented.
      if ([...(req.text?.content ?? '')].length > 2000) throw new ApiFault(40058, 'invalid text size');
      checkAttachments(corp, sb, req.attachments);
      const now = sb.clock.nowMs();
      if (corp.moments.filter((m) => now - m.createdAtMs < 60_000).length >= MOMENT_TASKS_PER_MINUTE)
        throw new ApiFault(45009, 'api freq out of limit: 10 moment tasks per minute');
      const tagIds = req.visible_range?.external_contact_list?.tag_list ?? [];
      const named = req.visible_range?.sender_list?.user_list ?? [];
      const candidates = named.length ? named : corp.members.filter((m) => m.visible).map((m) => m.userid);
      const invalid = candidates.filter((u) => !findMember(corp, u)?.visible);
      const senders = candidates
        .filter((u) => findMember(corp, u)?.visible)
        .filter(
          (u) =>
            tagIds.length === 0 ||
            corp.follows.some(
              (f) => f.userid === u && f.status === 'active' && f.tagIds.some((t) => tagIds.includes(t)),
            ),
        );
      const task: MomentTask = {
        jobid: newOpaque('job', 30),
        moment_id: newOpaque('mom', 30),
        createdAtMs: now,
        text: req.text?.content,
        attachments: req.attachments.length,
        ...(req.attachments[0] ? { attachmentKind: req.attachments[0].msgtype } : {}),
        tagIds,
        senders: Object.fromEntries(senders.map((u) => [findMember(corp, u)?.userid ?? u, { published: false }])),
        cancelled: false,
        invalidSenders: invalid,
      };
      corp.moments.push(task);
      return { jobid: task.jobid };
    },
  },
  'externalcontact/get_moment_task_result': {
    method: 'GET',
    handler: ({ corp, query }) => {
      const t = corp.moments.find((m) => m.jobid === query.jobid);
      if (!t) throw new ApiFault(40058, 'invalid jobid');
      return {
        status: 3,
        type: 'add_moment_task',
        result: {
          errcode: 0,
          errmsg: 'ok',
          moment_id: t.moment_id,
          invalid_sender_list: { user_list: t.invalidSenders, department_list: [] },
          invalid_external_contact_list: { tag_list: [] },
        },
      };
    },
  },
  'externalcontact/get_moment_task': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(momentSchema, body);
      const rows = Object.entries(moment(corp, req.moment_id).senders).map(([userid, s]) => ({
        userid,
        publish_status: s.published ? 1 : 0,
      }));
      const { page, next } = pageOf(rows, req.cursor, req.limit);
      return { task_list: page, next_cursor: next };
    },
  },
  'externalcontact/get_moment_send_result': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(sendResultSchema, body);
      const m = moment(corp, req.moment_id);
      const sender = m.senders[findMember(corp, req.userid)?.userid ?? req.userid];
      if (!sender) throw new ApiFault(41061, 'userid did not take part in this moment');
      if (!sender.published) throw new ApiFault(41062, 'the member has not published it yet');
      const rows = corp.follows
        .filter(
          (f) =>
            f.userid.toLowerCase() === req.userid.toLowerCase() &&
            f.status === 'active' &&
            (m.tagIds.length === 0 || f.tagIds.some((t) => m.tagIds.includes(t))),
        )
        .map((f) => ({ external_userid: f.external_userid }));
      const { page, next } = pageOf(rows, req.cursor, req.limit);
      return { customer_list: page, next_cursor: next };
    },
  },
  'externalcontact/cancel_moment_task': {
    method: 'POST',
    handler: ({ corp, body }) => {
      moment(corp, parseBody(momentSchema.pick({ moment_id: true }), body).moment_id).cancelled = true;
    },
  },
};
