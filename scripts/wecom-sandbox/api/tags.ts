import { z } from 'zod';
import { ApiFault, parseBody } from '../server/api-fault.js';
import type { ApiRoutes } from '../server/context.js';
import { newTagId } from '../world/ids.js';
import type { CorpWorld, TagGroup } from '../world/model.js';
import { relationship } from './helpers.js';

const MAX_CORP_TAGS = 10_000;
const MAX_TAGS_PER_PAIR = 3000;

function groupView(corp: CorpWorld, g: TagGroup, tagFilter?: (id: string) => boolean): Record<string, unknown> {
  return {
    group_id: g.group_id,
    group_name: g.group_name,
    create_time: g.create_time,
    order: g.order,
    tag: corp.tags
      .filter((t) => t.group_id === g.group_id && (!tagFilter || tagFilter(t.id)))
      .map((t) => ({ id: t.id, name: t.name, create_time: t.create_time, order: t.order })),
  };
}

const listSchema = z.object({ tag_id: z.array(z.string()).optional(), group_id: z.array(z.string()).optional() });
const addSchema = z.object({
  group_id: z.string().optional(),
  group_name: z.string().max(30).optional(),
  order: z.number().int().optional(),
  tag: z.array(z.object({ name: z.string().min(1).max(30), order: z.number().int().optional() })).min(1),
  agentid: z.number().int().optional(),
});
const editSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1).max(30).optional(),
  order: z.number().int().optional(),
});
const delSchema = z.object({ tag_id: z.array(z.string()).optional(), group_id: z.array(z.string()).optional() });
const markSchema = z
  .object({
    userid: z.string().min(1),
    external_userid: z.string().min(1),
    add_tag: z.array(z.string()).default([]),
    remove_tag: z.array(z.string()).default([]),
  })
  .refine((r) => r.add_tag.length + r.remove_tag.length > 0, {
    message: 'add_tag and remove_tag cannot both be empty',
  });

/** Removes tags (and groups left empty) everywhere. */
export function deleteTags(corp: CorpWorld, tagIds: Set<string>): void {
  corp.tags = corp.tags.filter((t) => !tagIds.has(t.id));
  for (const f of corp.follows) f.tagIds = f.tagIds.filter((id) => !tagIds.has(id));
  corp.tagGroups = corp.tagGroups.filter((g) => corp.tags.some((t) => t.group_id === g.group_id));
}

/** Corp tag management and mark_tag (docs/wecom.md §3.7, §3.8). */
export const tagRoutes: ApiRoutes = {
  'externalcontact/get_corp_tag_list': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(listSchema, body);
      if (req.group_id?.length) {
        return {
          tag_group: corp.tagGroups.filter((g) => req.group_id?.includes(g.group_id)).map((g) => groupView(corp, g)),
        };
      }
      if (req.tag_id?.length) {
        const wanted = new Set(req.tag_id);
        const groups = corp.tagGroups.filter((g) =>
          corp.tags.some((t) => t.group_id === g.group_id && wanted.has(t.id)),
        );
        return { tag_group: groups.map((g) => groupView(corp, g, (id) => wanted.has(id))) };
      }
      return { tag_group: corp.tagGroups.map((g) => groupView(corp, g)) };
    },
  },
  'externalcontact/add_corp_tag': {
    method: 'POST',
    handler: ({ corp, body, sb }) => {
      const req = parseBody(addSchema, body);
      const now = Math.floor(sb.clock.nowMs() / 1000);
      let group: TagGroup | undefined;
      if (req.group_id) {
        group = corp.tagGroups.find((g) => g.group_id === req.group_id);
        if (!group) throw new ApiFault(40068, 'invalid tagid');
      } else {
        if (!req.group_name) throw new ApiFault(40058, 'group_id or group_name is required');
        group = corp.tagGroups.find((g) => g.group_name === req.group_name);
        if (!group) {
          group = {
            group_id: newTagId(),
            group_name: req.group_name,
            create_time: now,
            order: req.order ?? 0,
            createdByApp: true,
          };
          corp.tagGroups.push(group);
        }
      }
      const gid = group.group_id;
      const names = [...new Set(req.tag.map((t) => t.name))];
      const fresh = names.filter((n) => !corp.tags.some((t) => t.group_id === gid && t.name === n));
      if (corp.tags.length + fresh.length > MAX_CORP_TAGS) throw new ApiFault(40126, 'corp tag count reached limit');
      for (const name of fresh) {
        const order = req.tag.find((t) => t.name === name)?.order ?? 0;
        corp.tags.push({ id: newTagId(), name, group_id: gid, create_time: now, order, createdByApp: true });
      }
      return {
        tag_group: groupView(corp, group, (id) => names.includes(corp.tags.find((t) => t.id === id)?.name ?? '')),
      };
    },
  },
  'externalcontact/edit_corp_tag': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(editSchema, body);
      const target = corp.tags.find((t) => t.id === req.id) ?? corp.tagGroups.find((g) => g.group_id === req.id);
      if (!target) throw new ApiFault(40068, 'invalid tagid');
      if (!target.createdByApp) throw new ApiFault(60011, 'no privilege: tag not created by this app');
      if ('id' in target) {
        if (
          req.name &&
          corp.tags.some((t) => t.group_id === target.group_id && t.name === req.name && t.id !== target.id)
        ) {
          throw new ApiFault(40071, 'tag name already exists');
        }
        if (req.name) target.name = req.name;
      } else if (req.name) {
        if (corp.tagGroups.some((g) => g.group_name === req.name && g !== target))
          throw new ApiFault(40071, 'group name already exists');
        target.group_name = req.name;
      }
      if (req.order !== undefined) target.order = req.order;
    },
  },
  'externalcontact/del_corp_tag': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(delSchema, body);
      if (!req.tag_id?.length && !req.group_id?.length)
        throw new ApiFault(40058, 'tag_id and group_id cannot both be empty');
      const ids = new Set(req.tag_id ?? []);
      for (const gid of req.group_id ?? []) for (const t of corp.tags) if (t.group_id === gid) ids.add(t.id);
      for (const id of ids) {
        const tag = corp.tags.find((t) => t.id === id);
        if (!tag) throw new ApiFault(40068, 'invalid tagid');
        if (!tag.createdByApp) throw new ApiFault(60011, 'no privilege: tag not created by this app');
      }
      deleteTags(corp, ids);
    },
  },
  'externalcontact/mark_tag': {
    method: 'POST',
    inflight: ({ corp, body, sb }) => {
      const b = (body ?? {}) as { userid?: unknown; external_userid?: unknown };
      return [
        {
          key: `${corp.corpId}|mark_tag`,
          limit: sb.limits.config.markTagConcurrency,
          errcode: 45033,
          errmsg: 'api concurrent out of limit',
        },
        {
          key: `${corp.corpId}|mark_tag|${String(b.userid)}|${String(b.external_userid)}`,
          limit: 1,
          errcode: 45035,
          errmsg: 'concurrent modification of the same record',
        },
      ];
    },
    handler: ({ corp, body }) => {
      const req = parseBody(markSchema, body);
      const follow = relationship(corp, req.userid, req.external_userid);
      for (const id of [...req.add_tag, ...req.remove_tag]) {
        if (!corp.tags.some((t) => t.id === id)) throw new ApiFault(40068, 'invalid tagid');
      }
      const next = new Set(follow.tagIds);
      for (const id of req.add_tag) next.add(id);
      for (const id of req.remove_tag) next.delete(id);
      if (next.size > MAX_TAGS_PER_PAIR) throw new ApiFault(40144, 'customer tag count reached limit');
      follow.tagIds = [...next];
    },
  },
};
