import Router from '@koa/router';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { corpIdSchema } from '../../domain/corps/corp.types.js';
import { groupKpis } from '../../domain/groups/group-kpis.js';
import {
  createWelcomeTemplate,
  markWelcomeTemplateDeleted,
  setGroupPurposeTags,
  updateWelcomeTemplate,
} from '../../domain/groups/group-commands.js';
import {
  countWelcomeTemplates,
  findGroupFor,
  findGroups,
  findWelcomeTemplate,
  findWelcomeTemplates,
} from '../../domain/groups/group-queries.js';
import {
  MAX_WELCOME_TEMPLATES,
  requestWelcomeSync,
  WELCOME_TEXT_MAX_BYTES,
} from '../../domain/groups/group-welcome.service.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { ConflictError, NotFoundError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

/** Who reads groups and their KPIs; who sets purposes and edits welcome templates. */
export const GROUP_READERS = ['admin', 'oem', 'dealer_admin', 'marketing', 'manager'] as const;
export const GROUP_WRITERS = ['admin', 'dealer_admin', 'marketing'] as const;

const purposeTag = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^[^\s,]+$/, { error: 'a purpose tag has no spaces or commas (e.g. model:汉兰达, delivery:2026-05)' });
export const groupListQuery = z.object({
  corpId: corpIdSchema,
  owner: z.string().min(1).max(64).optional(),
  purposeTag: purposeTag.optional(),
  status: z.enum(['active', 'dismissed']).default('active'),
});
export const groupKpiQuery = z.object({
  corpId: corpIdSchema,
  from: z.coerce.date({ error: 'from must be a date (YYYY-MM-DD)' }),
  to: z.coerce.date({ error: 'to must be a date (YYYY-MM-DD)' }),
  owner: z.string().min(1).max(64).optional(),
  purposeTag: purposeTag.optional(),
});
export const groupPatchBody = z.object({ corpId: corpIdSchema, purposeTags: z.array(purposeTag).max(20) }).strict();
export const welcomeTemplateBody = z
  .object({
    corpId: corpIdSchema,
    label: z.string().trim().min(1).max(60),
    text: z.string().max(3000).optional(),
    imageUrl: z.url().optional(),
    link: z
      .object({
        title: z.string().min(1).max(128),
        url: z.url(),
        picurl: z.url().optional(),
        desc: z.string().max(512).optional(),
      })
      .optional(),
    notify: z.boolean().default(true),
  })
  .strict();

const present = (g: {
  chatId: string;
  name?: string | null;
  ownerUserid?: string | null;
  memberCount?: number | null;
  customerCount?: number | null;
  status: string;
  purposeTags?: string[];
  createdInWecomAt?: Date | null;
  lastChangeAt?: Date | null;
  dismissedAt?: Date | null;
}) => ({
  chatId: g.chatId,
  name: g.name ?? '',
  owner: g.ownerUserid ?? undefined,
  members: g.memberCount ?? 0,
  customers: g.customerCount ?? 0,
  status: g.status,
  purposeTags: g.purposeTags ?? [],
  createdAt: g.createdInWecomAt ?? undefined,
  lastChangeAt: g.lastChangeAt ?? undefined,
  dismissedAt: g.dismissedAt ?? undefined,
});

/**
 * `/api/v1/groups` and `/api/v1/group-welcome-templates` (docs/engagement.md): customer groups as
 * WeCom last reported them, their purposes and KPIs, and the welcome templates (pushed to WeCom by
 * the worker, never inside the request).
 */
export function createGroupsRouter(deps: ApiDeps): Router {
  const router = new Router();

  router.get('/groups', async function listGroups(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(groupListQuery, ctx.query);
    assertCorp(p, q.corpId, 'read');
    const rows = await findGroups(q);
    ctx.body = { groups: rows.map(present) };
  });

  router.get('/groups/kpis', async function groupKpisRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(groupKpiQuery, ctx.query);
    assertCorp(p, q.corpId, 'read');
    if (q.to.getTime() <= q.from.getTime())
      throw new ValidationError([{ path: '/to', message: 'to must be after from' }]);
    ctx.body = {
      corpId: q.corpId,
      from: q.from,
      to: q.to,
      ...(await groupKpis(q.corpId, { from: q.from, to: q.to }, { ownerUserid: q.owner, purposeTag: q.purposeTag })),
    };
  });

  router.get('/groups/:chatId', async function getGroup(ctx) {
    const p = principalOf(ctx);
    const g = await findGroupFor(p, ctx.params.chatId ?? '');
    if (!g)
      throw new NotFoundError(
        `no customer group ${ctx.params.chatId ?? ''} (a new group appears after its first event or the nightly reconciliation)`,
        'group_not_found',
      );
    ctx.body = {
      ...present(g),
      corpId: g.corpId,
      admins: g.admins,
      notice: g.notice,
      memberList: g.members.map((m) => ({
        memberId: m.memberId,
        type: m.type,
        customerId: m.customerId ? String(m.customerId) : undefined,
        joinedAt: m.joinedAt,
        joinScene: m.joinScene,
      })),
    };
  });

  router.patch('/groups/:chatId', async function setGroupPurpose(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(groupPatchBody, bodyOf(ctx) ?? {});
    assertCorp(p, body.corpId, 'write');
    if (!(await setGroupPurposeTags(body.corpId, ctx.params.chatId ?? '', [...new Set(body.purposeTags)])))
      throw new NotFoundError(`no customer group ${ctx.params.chatId ?? ''} in ${body.corpId}`, 'group_not_found');
    await recordAudit({
      actor: p,
      action: 'group.purpose',
      target: { type: 'group', id: ctx.params.chatId ?? '', corpId: body.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { purposeTags: body.purposeTags },
      at: deps.clock.now(),
    });
    ctx.body = { chatId: ctx.params.chatId, purposeTags: [...new Set(body.purposeTags)] };
  });

  router.get('/group-welcome-templates', async function listWelcomeTemplates(ctx) {
    const p = principalOf(ctx);
    const { corpId } = parseOrThrow(z.object({ corpId: corpIdSchema }), ctx.query);
    assertCorp(p, corpId, 'read');
    const rows = await findWelcomeTemplates(corpId);
    ctx.body = {
      templates: rows.map((t) => ({
        id: String(t._id),
        label: t.label,
        text: t.text,
        imageUrl: t.imageUrl,
        link: t.link ?? undefined,
        notify: t.notify,
        syncStatus: t.syncStatus,
        syncError: t.syncError,
        wecomTemplateId: t.wecomTemplateId,
      })),
    };
  });

  const checkContent = (b: z.output<typeof welcomeTemplateBody>) => {
    if (!b.text && !b.imageUrl && !b.link)
      throw new ValidationError([
        { path: '/text', message: 'give a text, an image or a link (WeCom refuses an empty template)' },
      ]);
    if (b.imageUrl && b.link)
      throw new ValidationError([
        { path: '/link', message: 'WeCom keeps one attachment: give an image or a link, not both' },
      ]);
    if (b.text && Buffer.byteLength(b.text) > WELCOME_TEXT_MAX_BYTES)
      throw new ValidationError([
        { path: '/text', message: `at most ${WELCOME_TEXT_MAX_BYTES} bytes (about 1,000 Chinese characters)` },
      ]);
  };

  /** Every change of a welcome template is audited like other console changes (docs/architecture.md §7). */
  const auditTemplate = (
    ctx: Parameters<Parameters<typeof router.post>[1]>[0],
    action: 'created' | 'edited' | 'deleted',
    corpId: string,
    id: string,
    revision: number,
  ) =>
    recordAudit({
      actor: principalOf(ctx),
      action: `group_welcome_template.${action}`,
      target: { type: 'group_welcome_template', id, corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { revision },
      at: deps.clock.now(),
    });

  router.post('/group-welcome-templates', async function addWelcomeTemplate(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(welcomeTemplateBody, bodyOf(ctx) ?? {});
    assertCorp(p, body.corpId, 'write');
    checkContent(body);
    if ((await countWelcomeTemplates(body.corpId)) >= MAX_WELCOME_TEMPLATES)
      throw new ConflictError(
        `WeCom keeps at most ${MAX_WELCOME_TEMPLATES} group welcome templates per corp; delete one first`,
        'welcome_template_limit',
      );
    const id = await createWelcomeTemplate(body, `user:${p.userid ?? p.tokenId}`);
    await auditTemplate(ctx, 'created', body.corpId, String(id), 0);
    await requestWelcomeSync(deps.queues, body.corpId, String(id), 0);
    ctx.status = 202;
    ctx.body = { id: String(id), syncStatus: 'pending' };
  });

  const byId = async (corpId: string, id: string) => {
    const t = await findWelcomeTemplate(corpId, id);
    if (!t) throw new NotFoundError(`no group welcome template ${id} in ${corpId}`, 'welcome_template_not_found');
    return t;
  };

  router.put('/group-welcome-templates/:id', async function editWelcomeTemplate(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(welcomeTemplateBody, bodyOf(ctx) ?? {});
    assertCorp(p, body.corpId, 'write');
    checkContent(body);
    const t = await byId(body.corpId, ctx.params.id ?? '');
    const revision = t.revision + 1;
    await updateWelcomeTemplate(t._id, body, revision);
    await auditTemplate(ctx, 'edited', body.corpId, String(t._id), revision);
    await requestWelcomeSync(deps.queues, body.corpId, String(t._id), revision);
    ctx.status = 202;
    ctx.body = { id: String(t._id), syncStatus: 'pending' };
  });

  router.delete('/group-welcome-templates/:id', async function deleteWelcomeTemplate(ctx) {
    const p = principalOf(ctx);
    const { corpId } = parseOrThrow(z.object({ corpId: corpIdSchema }), ctx.query);
    assertCorp(p, corpId, 'write');
    const t = await byId(corpId, ctx.params.id ?? '');
    const revision = t.revision + 1;
    await markWelcomeTemplateDeleted(t._id, revision);
    await auditTemplate(ctx, 'deleted', corpId, String(t._id), revision);
    await requestWelcomeSync(deps.queues, corpId, String(t._id), revision);
    ctx.status = 202;
    ctx.body = { id: String(t._id), deleted: true };
  });
  return router;
}
