import Router from '@koa/router';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { requireDealerCorp } from '../../domain/corps/corp-queries.js';
import { corpIdSchema } from '../../domain/corps/corp.types.js';
import {
  createMomentTask,
  findMomentTask,
  listMomentTasks,
  momentKpis,
  MOMENT_TASK_STATUSES,
} from '../../domain/moments/moment-tasks.js';
import {
  MOMENT_LIMITS,
  momentImageRef,
  momentLinkInput,
  momentShapeProblems,
  resolveMomentAttachments,
} from '../../domain/moments/moment-input.js';
import { NotFoundError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { momentCreateJob } from '../../queues/jobs/broadcasts.jobs.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

/** Who reads Moments tasks and their counts; who creates them (docs/engagement.md). */
export const MOMENT_READERS = ['admin', 'oem', 'dealer_admin', 'marketing', 'manager'] as const;
export const MOMENT_AUTHORS = ['admin', 'oem', 'dealer_admin', 'marketing'] as const;

const userid = z.string().trim().min(1).max(64);
export const momentCreateSchema = z
  .object({
    corpId: corpIdSchema,
    name: z.string().trim().min(1).max(80),
    /** WeCom: at most 2,000 characters (docs/wecom.md §12.1); may be empty when images or a link go with it. */
    text: z
      .string()
      .trim()
      .max(MOMENT_LIMITS.textChars, { error: `text: at most ${MOMENT_LIMITS.textChars} characters (WeCom's limit)` })
      .default(''),
    /** Up to 9 images; the shape rules (images or a link, the cover) are checked after parsing, all at once. */
    images: z.array(momentImageRef).max(100).default([]),
    link: momentLinkInput.optional(),
    /** Corp tag ids (WeCom's `tag_list`; strategy-group tags are refused by WeCom). Empty: public to each advisor's customers. */
    tagIds: z.array(z.string().min(1).max(64)).max(100).default([]),
    advisors: z.array(userid).min(1, { error: 'choose at least one advisor to publish it' }).max(10_000),
  })
  .strict();
export const momentListQuery = z.object({
  corpId: corpIdSchema,
  status: z.enum(MOMENT_TASK_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const momentKpiQuery = z.object({
  corpId: corpIdSchema,
  from: z.coerce.date({ error: 'from must be a date (YYYY-MM-DD)' }),
  to: z.coerce.date({ error: 'to must be a date (YYYY-MM-DD)' }),
});

const present = (t: NonNullable<Awaited<ReturnType<typeof findMomentTask>>>) => {
  const published = t.publishStatus.filter((p) => p.published).length;
  return {
    id: String(t._id),
    corpId: t.corpId,
    name: t.name,
    text: t.text,
    images: (t.images ?? []).map((i) => ({ assetId: i.assetId, contentItemId: i.contentItemId ?? undefined })),
    link: t.link
      ? {
          title: t.link.title,
          url: t.link.url,
          coverAssetId: t.link.coverAssetId,
          coverContentItemId: t.link.coverContentItemId ?? undefined,
        }
      : undefined,
    tagIds: t.tagIds,
    advisors: t.advisors,
    status: t.status,
    error: t.error ?? undefined,
    momentId: t.momentId ?? undefined,
    invalidSenders: t.invalidSenders,
    published,
    pending: t.publishStatus.filter((p) => !p.published).length,
    publishStatus: t.publishStatus.map((p) => ({
      userid: p.userid,
      published: p.published,
      reach: p.reach ?? undefined,
      seenPublishedAt: p.seenPublishedAt ?? undefined,
    })),
    remindedAt: t.remindedAt ?? undefined,
    reminded: t.reminded,
    createdBy: t.createdBy,
    requestedAt: t.requestedAt,
    lastPolledAt: t.lastPolledAt ?? undefined,
  };
};

/**
 * `/api/v1/moments` and `/api/v1/kpis/moments` (docs/engagement.md): corp Moments tasks for
 * chosen advisors, visible to customers with given corp tags. Created in WeCom by the worker
 * (`moment-create`), tracked by its tick; the counts for the cockpit.
 */
export function createMomentsRouter(deps: ApiDeps): Router {
  const router = new Router();

  router.post('/moments', async function createMomentRoute(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(momentCreateSchema, bodyOf(ctx) ?? {});
    assertCorp(p, body.corpId, 'write');
    const shape = momentShapeProblems(body);
    if (shape.length) throw new ValidationError(shape);
    await requireDealerCorp(body.corpId, deps.config.defaultTimezone);
    const attachments = await resolveMomentAttachments(body.corpId, body);
    const advisors = [...new Set(body.advisors)];
    const id = await createMomentTask(
      body.corpId,
      { name: body.name, text: body.text, tagIds: [...new Set(body.tagIds)], advisors, ...attachments },
      `user:${p.userid ?? p.tokenId}`,
      deps.clock.now(),
    );
    await momentCreateJob.enqueue(deps.queues, { corpId: body.corpId, momentTaskId: id });
    await recordAudit({
      actor: p,
      action: 'moment.create',
      target: { type: 'moment_task', id, corpId: body.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: {
        name: body.name,
        advisors: advisors.length,
        images: attachments.images?.length ?? 0,
        link: Boolean(attachments.link),
      },
      at: deps.clock.now(),
    });
    ctx.status = 202;
    ctx.body = { id, status: 'pending' };
  });

  router.get('/moments', async function listMomentsRoute(ctx) {
    const q = parseOrThrow(momentListQuery, ctx.query);
    assertCorp(principalOf(ctx), q.corpId, 'read');
    ctx.body = { moments: (await listMomentTasks(q.corpId, q)).map(present) };
  });

  router.get('/moments/:id', async function getMomentRoute(ctx) {
    const { corpId } = parseOrThrow(z.object({ corpId: corpIdSchema }), ctx.query);
    assertCorp(principalOf(ctx), corpId, 'read');
    const t = await findMomentTask(corpId, ctx.params.id ?? '');
    if (!t) throw new NotFoundError(`no Moments task ${ctx.params.id ?? ''} in ${corpId}`, 'moment_task_not_found');
    ctx.body = present(t);
  });

  router.get('/kpis/moments', async function momentKpisRoute(ctx) {
    const q = parseOrThrow(momentKpiQuery, ctx.query);
    assertCorp(principalOf(ctx), q.corpId, 'read');
    if (q.to.getTime() <= q.from.getTime())
      throw new ValidationError([{ path: '/to', message: 'to must be after from' }]);
    ctx.body = { corpId: q.corpId, from: q.from, to: q.to, ...(await momentKpis(q.corpId, q)) };
  });
  return router;
}
