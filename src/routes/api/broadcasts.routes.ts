import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { canAccessCorp, corpFilter, type Principal } from '../../domain/auth/principal.js';
import {
  createBroadcast,
  decideBroadcast,
  markBroadcastCancelled,
  pushOemBroadcast,
} from '../../domain/broadcasts/broadcast-approval.js';
import {
  audienceSchema,
  contentSchema,
  messageCapProblem,
  type BroadcastPlan,
} from '../../domain/broadcasts/broadcast-plan.js';
import {
  BROADCAST_STATUSES,
  findBroadcast,
  planOf,
  presentPlan,
  listBroadcasts,
  summaryExclusions,
  type StoredBroadcast,
} from '../../domain/broadcasts/broadcast-queries.js';
import { broadcastProgress, SEND_RESULT_WORDS } from '../../domain/broadcasts/broadcast.service.js';
import { dealerCorpIds, existingCorpIds, requireDealerCorp } from '../../domain/corps/corp-queries.js';
import { corpIdSchema } from '../../domain/corps/corp.types.js';
import { assertAssetsInScope } from '../../domain/messages/media-scope.js';
import { broadcastReport } from '../../domain/outcomes/campaign-report.js';
import { findSegment } from '../../domain/segments/segment.service.js';
import { talkTrackVariablesIn } from '../../domain/tasks/task-card.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { broadcastCancelJob } from '../../queues/jobs/broadcasts.jobs.js';
import { bodyOf, type ApiDeps } from './api-deps.js';
import { reportOptionsQuery } from './outcomes.routes.js';

/** Who reads broadcasts, who creates and cancels them, who approves a dealer's copy (docs/engagement.md). */
export const BROADCAST_READERS = ['admin', 'oem', 'dealer_admin', 'marketing', 'manager'] as const;
export const BROADCAST_AUTHORS = ['admin', 'oem', 'dealer_admin', 'marketing'] as const;
/** The car maker never approves for a dealer: `oem` is not here. */
export const BROADCAST_APPROVERS = ['admin', 'dealer_admin', 'manager'] as const;
/** Roles that may push one broadcast to every dealer (each dealer approves its own copy). */
const PUSHERS: readonly string[] = ['admin', 'oem'];

/** Anything that looks like a placeholder: `{{name}}`, `${name}`, `{name}` or `{车型}`. */
const PLACEHOLDER = /\{\{[^}]*\}\}|\$\{[^}]*\}|\{[A-Za-z_.\u4e00-\u9fff]+\}/g;
const VARIABLES_WORDS = '{客户} (customer name), {车型} (vehicle model), {顾问} (advisor name)';

const audienceField = audienceSchema;
export const broadcastDraftSchema = z
  .object({
    name: z.string().trim().min(1).max(80),
    audience: audienceField,
    content: contentSchema,
    /** `single`: customers (a segment); `group`: customer groups (owner groups). Derived when absent. */
    chatType: z.enum(['single', 'group']).optional(),
    scheduledAt: z.coerce.date({ error: 'scheduledAt must be an ISO date-time (e.g. 2026-05-01T10:00:00+08:00)' }),
    holdoutPercent: z.number().min(0).max(50).default(0),
    monthlyCap: z.number().int().min(1).max(31).default(4),
  })
  .strict();
export const broadcastCreateSchema = broadcastDraftSchema.safeExtend({
  /** The dealer corp; or `dealers` (car maker or admin): `all` or a list, one copy per dealer. */
  corpId: corpIdSchema.optional(),
  dealers: z.union([z.literal('all'), z.array(corpIdSchema).min(1).max(500)]).optional(),
});
/** A draft's preview plans the audience only, so the text may still be missing while it is edited. */
export const broadcastPreviewSchema = broadcastDraftSchema
  .omit({ name: true, scheduledAt: true, content: true })
  .safeExtend({
    corpId: corpIdSchema,
    name: z.string().max(80).optional(),
    scheduledAt: z.unknown().optional(),
    content: contentSchema.optional(),
  });
export const broadcastListQuery = z.object({
  corpId: corpIdSchema.optional(),
  status: z.enum(BROADCAST_STATUSES).optional(),
  parentId: z
    .string()
    .regex(/^[a-f0-9]{24}$/, { error: 'parentId is a broadcast id (24 hex characters)' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const decisionBody = z.object({ reason: z.string().max(200).optional() }).strict();

type Draft = z.output<typeof broadcastDraftSchema>;

/** The checks a schema cannot make: chat type against audience, placeholders, the schedule window. */
function checkDraft(
  d: Pick<Draft, 'audience' | 'chatType'> & { content?: Draft['content'] },
  scheduledAt?: Date,
  now?: Date,
): void {
  const expected = d.audience.kind === 'groups' ? 'group' : 'single';
  if (d.chatType && d.chatType !== expected)
    throw new ValidationError([
      {
        path: '/chatType',
        message:
          d.chatType === 'group'
            ? 'a group-chat broadcast needs audience {"kind":"groups", …} (owner groups by purposeTag or chatIds)'
            : 'a single-chat broadcast needs audience {"kind":"segment","conditions":{…}}',
      },
    ]);
  const text = d.content?.text ?? '';
  if (d.audience.kind === 'groups' && (text.match(PLACEHOLDER) ?? []).length)
    throw new ValidationError([
      {
        path: '/content/text',
        message: `a group-chat broadcast delivers one text to each whole group, so customer variables such as ${(text.match(PLACEHOLDER) ?? [])[0]} cannot be filled per customer; write the text without them`,
      },
    ]);
  const known = (m: string) => /^\{[^{}$]+\}$/.test(m) && talkTrackVariablesIn(m).length > 0;
  const unknown = [...new Set((text.match(PLACEHOLDER) ?? []).filter((m) => !known(m)))];
  if (unknown.length)
    throw new ValidationError([
      {
        path: '/content/text',
        message: `unknown variable ${unknown.join(', ')}; a broadcast text may use ${VARIABLES_WORDS}, or none`,
      },
    ]);
  if (scheduledAt && now) {
    if (scheduledAt.getTime() < now.getTime() - 3600_000)
      throw new ValidationError([
        { path: '/scheduledAt', message: 'is more than an hour in the past; give now or a later time' },
      ]);
    if (scheduledAt.getTime() > now.getTime() + 90 * 86_400_000)
      throw new ValidationError([{ path: '/scheduledAt', message: 'is more than 90 days ahead' }]);
  }
}

type DraftAudience = Draft['audience'];

/**
 * A text with customer variables: the plan must not give any advisor more distinct messages than
 * the cap (docs/engagement.md, "Customer variables"), else a 422 naming the variable.
 */
function checkMessageCap(plan: BroadcastPlan, text: string | undefined): void {
  const problem = messageCapProblem(plan, text);
  if (problem) throw new ValidationError([{ path: '/content/text', message: problem }]);
}

/**
 * A segment audience naming a saved segment: the segment must be a live one of this corp, and its
 * conditions now are stored beside the id as the creation snapshot (the send resolves the id
 * again; docs/engagement.md, "Saved segments").
 */
async function withSegment(corpId: string, audience: DraftAudience): Promise<DraftAudience> {
  if (audience.kind !== 'segment' || !audience.segmentId) return audience;
  const s = await findSegment(corpId, audience.segmentId);
  if (!s)
    throw new ValidationError([
      {
        path: '/audience/segmentId',
        message: `no saved segment ${audience.segmentId} in corp ${corpId} (list them with GET /api/v1/segments?corpId=${corpId})`,
      },
    ]);
  return { kind: 'segment', segmentId: s.id, conditions: s.conditions };
}

const chatTypeOf = (audience: { kind: string }) => (audience.kind === 'groups' ? 'group' : 'single');

const present = (b: StoredBroadcast) => ({
  id: String(b._id),
  corpId: b.corpId,
  name: b.name,
  status: b.status,
  chatType: chatTypeOf(b.audience as { kind: string }),
  audience: b.audience,
  plannedConditions: b.plannedConditions ?? undefined,
  content: b.content,
  scheduledAt: b.scheduledAt,
  postponedTo: b.postponedTo ?? undefined,
  holdoutPercent: b.holdoutPercent ?? 0,
  monthlyCap: b.monthlyCap ?? 4,
  createdBy: b.createdBy,
  approvedBy: b.approvedBy ?? undefined,
  approvedAt: b.approvedAt ?? undefined,
  parentId: b.parentId ? String(b.parentId) : undefined,
  startedAt: b.startedAt ?? undefined,
  cancelledAt: b.cancelledAt ?? undefined,
  createdAt: (b as { createdAt?: Date }).createdAt,
});

const actorOf = (p: Principal) => `user:${p.userid ?? p.tokenId}`;

/**
 * `/api/v1/broadcasts` (docs/engagement.md): one-off promotions to a segment or to owner groups.
 * Created waiting for approval (a car-maker broadcast becomes one copy per dealer, each approved
 * by that dealer), previewed with the plan the send uses, sent by the worker's tick, tracked per
 * advisor, cancelled (the WeCom tasks by the worker, never inside the request).
 */
export function createBroadcastsRouter(deps: ApiDeps): Router {
  const router = new Router();
  const audit = async (
    ctx: Context,
    action: string,
    b: { id: string; corpId: string },
    detail?: Record<string, string | number | boolean | string[]>,
  ) =>
    recordAudit({
      actor: principalOf(ctx),
      action,
      target: { type: 'broadcast', id: b.id, corpId: b.corpId },
      requestId: ctx.state.reqId as string | undefined,
      ...(detail ? { detail } : {}),
      at: deps.clock.now(),
    });

  /** The broadcast behind `:id` if the principal may see its corp; 404 otherwise (its existence does not leak). */
  const visible = async (p: Principal, id: string) => {
    const b = await findBroadcast(id);
    if (!b || !canAccessCorp(p, b.corpId))
      throw new NotFoundError(`no broadcast ${id} (list them with GET /api/v1/broadcasts)`, 'broadcast_not_found');
    return b;
  };

  router.post('/broadcasts', async function createBroadcastRoute(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(broadcastCreateSchema, bodyOf(ctx) ?? {});
    checkDraft(body, body.scheduledAt, deps.clock.now());
    if ((body.corpId === undefined) === (body.dealers === undefined))
      throw new ValidationError([
        { path: '/corpId', message: 'give corpId (one dealer) or dealers ("all" or a list; car maker only), not both' },
      ]);
    const input = {
      name: body.name,
      audience: body.audience,
      content: body.content,
      scheduledAt: body.scheduledAt,
      holdoutPercent: body.holdoutPercent,
      monthlyCap: body.monthlyCap,
    };
    if (body.corpId !== undefined) {
      assertCorp(p, body.corpId, 'write');
      await requireDealerCorp(body.corpId, deps.config.defaultTimezone);
      await assertAssetsInScope({ scope: body.corpId, ...{ content: body.content } });
      input.audience = await withSegment(body.corpId, body.audience);
      if (body.content.text && talkTrackVariablesIn(body.content.text).length) {
        const corp = await requireDealerCorp(body.corpId, deps.config.defaultTimezone);
        const plan = await planOf(
          { corpId: body.corpId, ...input, text: body.content.text },
          { now: deps.clock.now(), timeZone: corp.timeZone, pd: deps.pd },
        );
        checkMessageCap(plan, body.content.text);
      }
      const id = await createBroadcast(body.corpId, input, actorOf(p));
      await audit(ctx, 'broadcast.create', { id, corpId: body.corpId }, { name: body.name });
      ctx.status = 201;
      ctx.body = { id, corpId: body.corpId, status: 'pending_approval' };
      return;
    }
    if (!PUSHERS.includes(p.role))
      throw new ForbiddenError(
        'only the car maker (oem) or an admin pushes a broadcast to several dealers; give corpId instead',
        'broadcast_push_forbidden',
      );
    if (body.audience.kind === 'segment' && body.audience.segmentId)
      throw new ValidationError([
        {
          path: '/audience/segmentId',
          message: 'a saved segment belongs to one corp; give corpId, or write the conditions for every dealer',
        },
      ]);
    await assertAssetsInScope({ scope: 'all', ...{ content: body.content } });
    const all = await dealerCorpIds();
    const targets = body.dealers === 'all' ? all : [...new Set(body.dealers)];
    if (body.dealers !== 'all') {
      const known = await existingCorpIds(targets);
      const dealers = new Set(all);
      const wrong = targets.filter((c) => !known.has(c) || !dealers.has(c));
      if (wrong.length)
        throw new ValidationError([
          { path: '/dealers', message: `not dealer corps: ${wrong.join(', ')} (list them with GET /api/v1/corps)` },
        ]);
    }
    if (targets.length === 0)
      throw new ValidationError([
        { path: '/dealers', message: 'no dealer corps yet; add one with npm run corp -- add' },
      ]);
    const pushed = await pushOemBroadcast(targets, input, actorOf(p));
    for (const c of pushed.copies)
      await audit(ctx, 'broadcast.create', c, { name: body.name, parentId: pushed.parentId });
    ctx.status = 201;
    ctx.body = { parentId: pushed.parentId, copies: pushed.copies.map((c) => ({ ...c, status: 'pending_approval' })) };
  });

  router.get('/broadcasts', async function listBroadcastsRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(broadcastListQuery, ctx.query);
    if (q.corpId) assertCorp(p, q.corpId, 'read');
    const rows = await listBroadcasts(q.corpId ? { corpId: q.corpId } : corpFilter(p), q);
    ctx.body = { broadcasts: rows.map(present) };
  });

  router.post('/broadcasts/preview', async function previewDraftBroadcast(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(broadcastPreviewSchema, bodyOf(ctx) ?? {});
    assertCorp(p, body.corpId, 'write');
    checkDraft(body);
    const corp = await requireDealerCorp(body.corpId, deps.config.defaultTimezone);
    const plan = await planOf(
      {
        corpId: body.corpId,
        audience: await withSegment(body.corpId, body.audience),
        holdoutPercent: body.holdoutPercent,
        monthlyCap: body.monthlyCap,
        ...(body.content?.text ? { text: body.content.text } : {}),
      },
      { now: deps.clock.now(), timeZone: corp.timeZone, pd: deps.pd },
    );
    checkMessageCap(plan, body.content?.text);
    ctx.body = presentPlan(plan);
  });

  router.get('/broadcasts/:id', async function getBroadcast(ctx) {
    const b = await visible(principalOf(ctx), ctx.params.id ?? '');
    const progress = await broadcastProgress(b.corpId, String(b._id));
    const totals = progress.reduce(
      (t, a) => ({
        sent: t.sent + a.customers.sent,
        pending: t.pending + a.customers.pending,
        failed: t.failed + a.customers.failed,
        groupsSent: t.groupsSent + a.groups.sent,
        groupsPlanned: t.groupsPlanned + a.groups.planned,
      }),
      { sent: 0, pending: 0, failed: 0, groupsSent: 0, groupsPlanned: 0 },
    );
    ctx.body = {
      ...present(b),
      summary: b.summary
        ? {
            customers: (b.summary as { customers?: number }).customers ?? 0,
            groups: (b.summary as { groups?: number }).groups ?? 0,
            calls: (b.summary as { calls?: number }).calls ?? 0,
            excluded: summaryExclusions(b.summary),
          }
        : undefined,
      totals,
      progress: progress.map((a) => ({ ...a, stateWords: STATE_WORDS[a.state] })),
    };
  });

  /**
   * The broadcast's holdout report (docs/engagement.md, "Broadcast report"): the customers WeCom
   * reported it sent to against those its holdout share kept out, with the rules' wording and maths.
   */
  router.get('/broadcasts/:id/report', async function broadcastReportRoute(ctx) {
    const q = parseOrThrow(reportOptionsQuery, ctx.query);
    const b = await visible(principalOf(ctx), ctx.params.id ?? '');
    ctx.body = {
      name: b.name,
      status: b.status,
      holdoutPercent: b.holdoutPercent ?? 0,
      ...(await broadcastReport(b.corpId, String(b._id), { windowDays: q.windowDays, types: q.types })),
    };
  });

  router.post('/broadcasts/:id/preview', async function previewStoredBroadcast(ctx) {
    const p = principalOf(ctx);
    const b = await visible(p, ctx.params.id ?? '');
    const corp = await requireDealerCorp(b.corpId, deps.config.defaultTimezone);
    const text = (b.content as { text?: string } | undefined)?.text;
    const plan = await planOf(
      {
        id: String(b._id),
        corpId: b.corpId,
        audience: audienceSchema.parse(b.audience),
        holdoutPercent: b.holdoutPercent ?? 0,
        monthlyCap: b.monthlyCap ?? 4,
        ...(text ? { text } : {}),
      },
      { now: deps.clock.now(), timeZone: corp.timeZone, pd: deps.pd },
    );
    checkMessageCap(plan, text);
    ctx.body = presentPlan(plan);
  });

  for (const decision of ['approve', 'reject'] as const) {
    router.post(`/broadcasts/:id/${decision}`, async function decideBroadcastRoute(ctx) {
      const p = principalOf(ctx);
      const body = parseOrThrow(decisionBody, bodyOf(ctx) ?? {});
      const b = await visible(p, ctx.params.id ?? '');
      if (b.createdBy === actorOf(p))
        throw new ConflictError(
          'the author of a broadcast does not approve it: a manager or the dealer admin decides (four eyes)',
          'broadcast_own_approval',
        );
      if (!(await decideBroadcast(b.corpId, String(b._id), decision, actorOf(p), deps.clock.now())))
        throw new ConflictError(
          `broadcast ${String(b._id)} is ${b.status}, not waiting for approval`,
          'broadcast_not_pending',
        );
      await audit(
        ctx,
        `broadcast.${decision}`,
        { id: String(b._id), corpId: b.corpId },
        body.reason ? { reason: body.reason } : undefined,
      );
      ctx.body = { id: String(b._id), status: decision === 'approve' ? 'approved' : 'rejected' };
    });
  }

  router.post('/broadcasts/:id/cancel', async function cancelBroadcastRoute(ctx) {
    const p = principalOf(ctx);
    const b = await visible(p, ctx.params.id ?? '');
    const before = await markBroadcastCancelled(b.corpId, String(b._id), deps.clock.now());
    if (!before)
      throw new ConflictError(
        `broadcast ${String(b._id)} is ${b.status}; only a waiting, approved or sent broadcast is cancelled`,
        'broadcast_not_cancellable',
      );
    const handedOut = before === 'sending' || before === 'sent';
    if (handedOut) await broadcastCancelJob.enqueue(deps.queues, { corpId: b.corpId, broadcastId: String(b._id) });
    await audit(ctx, 'broadcast.cancel', { id: String(b._id), corpId: b.corpId }, { was: String(before) });
    ctx.status = handedOut ? 202 : 200;
    ctx.body = { id: String(b._id), status: 'cancelled', wecomTasksCancelling: handedOut };
  });
  return router;
}

/** An advisor's state in words (the console shows these; WeCom's per-customer reasons are in `failures`). */
const STATE_WORDS: Record<string, string> = {
  sent: '已确认发送',
  unconfirmed: SEND_RESULT_WORDS[0] as string,
  failed: '企业微信未能创建群发任务',
  cancelled: '群发已取消',
};
