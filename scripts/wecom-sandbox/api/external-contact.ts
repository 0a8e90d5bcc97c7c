import { z } from 'zod';
import { ApiFault, parseBody } from '../server/api-fault.js';
import type { ApiRoutes } from '../server/context.js';
import type { CorpWorld, Follow } from '../world/model.js';
import { customerView, knownCustomer, pageOf, relationship, visibleFollows, visibleMember } from './helpers.js';

function followView(corp: CorpWorld, f: Follow): Record<string, unknown> {
  const tags = f.tagIds.flatMap((id) => {
    const tag = corp.tags.find((t) => t.id === id);
    const group = tag && corp.tagGroups.find((g) => g.group_id === tag.group_id);
    return tag && group ? [{ group_name: group.group_name, tag_name: tag.name, tag_id: tag.id, type: 1 }] : [];
  });
  return {
    userid: f.userid,
    remark: f.remark,
    description: f.description,
    createtime: f.createtime,
    tags: [...tags, ...f.personalTags.map((p) => ({ ...p, type: 2 }))],
    remark_mobiles: f.remark_mobiles,
    add_way: f.add_way,
    oper_userid: f.oper_userid,
    ...(f.remark_corp_name ? { remark_corp_name: f.remark_corp_name } : {}),
    ...(f.state ? { state: f.state } : {}),
  };
}

const batchSchema = z.object({
  userid_list: z.array(z.string()).min(1).max(100),
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(100).default(50),
});

const remarkSchema = z
  .object({
    userid: z.string().min(1),
    external_userid: z.string().min(1),
    remark: z.string().max(20).optional(),
    description: z.string().max(150).optional(),
    remark_company: z.string().max(20).optional(),
    remark_mobiles: z.array(z.string()).optional(),
    remark_pic_mediaid: z.string().optional(),
  })
  .refine(
    (r) =>
      r.remark !== undefined ||
      r.description !== undefined ||
      r.remark_company !== undefined ||
      r.remark_mobiles !== undefined ||
      r.remark_pic_mediaid !== undefined,
    {
      message: 'one of remark, description, remark_company, remark_mobiles, remark_pic_mediaid is required',
    },
  );

/** Customer reads and remarks (docs/wecom.md §3.2–§3.6). */
export const externalContactRoutes: ApiRoutes = {
  'externalcontact/get': {
    method: 'GET',
    handler: ({ corp, query }) => {
      const customer = knownCustomer(corp, query.external_userid);
      const follows = visibleFollows(corp, (f) => f.external_userid === customer.external_userid);
      if (follows.length === 0) throw new ApiFault(84061, 'not external contact');
      const { page, next } = pageOf(follows, query.cursor, 500);
      return {
        external_contact: customerView(customer),
        follow_user: page.map((f) => followView(corp, f)),
        ...(next ? { next_cursor: next } : {}),
      };
    },
  },
  'externalcontact/batch/get_by_user': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(batchSchema, body);
      const users = req.userid_list.map((u) => visibleMember(corp, u).userid);
      const follows = visibleFollows(corp, (f) => users.includes(f.userid));
      const { page, next } = pageOf(follows, req.cursor, req.limit);
      return {
        external_contact_list: page.map((f) => {
          const { tags: _tags, ...rest } = followView(corp, f);
          return {
            external_contact: customerView(knownCustomer(corp, f.external_userid)),
            follow_info: { ...rest, tag_id: f.tagIds },
          };
        }),
        next_cursor: next,
      };
    },
  },
  'externalcontact/list': {
    method: 'GET',
    handler: ({ corp, query }) => {
      const member = visibleMember(corp, query.userid);
      if (!member.customerContact) throw new ApiFault(84074, 'no external contact permission');
      return { external_userid: visibleFollows(corp, (f) => f.userid === member.userid).map((f) => f.external_userid) };
    },
  },
  'externalcontact/get_follow_user_list': {
    method: 'GET',
    handler: ({ corp }) => ({
      follow_user: corp.members.filter((m) => m.visible && m.customerContact && m.status === 1).map((m) => m.userid),
    }),
  },
  'externalcontact/remark': {
    method: 'POST',
    handler: ({ corp, body }) => {
      const req = parseBody(remarkSchema, body);
      const follow = relationship(corp, req.userid, req.external_userid);
      if (req.remark !== undefined) follow.remark = req.remark;
      if (req.description !== undefined) follow.description = req.description;
      if (req.remark_company !== undefined) follow.remark_corp_name = req.remark_company;
      if (req.remark_mobiles !== undefined) follow.remark_mobiles = req.remark_mobiles.filter((m) => m !== '');
    },
  },
};
