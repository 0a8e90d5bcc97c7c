import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import type { Principal } from '../../domain/auth/principal.js';
import { contentItemInCorp } from '../../domain/content/content-for-customer.js';
import { customerByExternalId } from '../../domain/customers/customer-queries.js';
import { sidebarAccess } from '../../domain/sidebar/sidebar-access.js';
import { loadSidebarGroup, sidebarGroupAccess, type SidebarGroupView } from '../../domain/sidebar/sidebar-group.js';
import { NOTE_MAX_CHARS, noteForViewer, writeNote } from '../../domain/sidebar/sidebar-note.js';
import { recordSidebarSend, SIDEBAR_SEND_KINDS } from '../../domain/sidebar/sidebar-send.js';
import { loadSidebarView, type SidebarView } from '../../domain/sidebar/sidebar-view.js';
import { CONTENT_MEDIA_BUCKET_MS, contentMediaUploadJob } from '../../queues/jobs/content.jobs.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { ForbiddenError, NotFoundError, ServiceUnavailableError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { signJsapi, type JsapiSignature } from '../../wecom/jsapi-signature.js';
import { bodyOf, type ApiDeps } from './api-deps.js';
import { corpTaskSettings } from '../../domain/tasks/task-queries.js';

/** Who may open the sidebar: members who work customers, and corp admins. */
export const SIDEBAR_READERS = ['admin', 'dealer_admin', 'manager', 'advisor'] as const;

const corpIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'a WeCom corp id' });
export const sidebarCustomerQuery = z
  .object({
    externalUserid: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,128}$/, { error: 'the external_userid getCurExternalContact returned' }),
    corpId: corpIdSchema.optional(),
  })
  .strict();
export const sidebarSendBody = z
  .object({
    externalUserid: sidebarCustomerQuery.shape.externalUserid,
    corpId: corpIdSchema.optional(),
    kind: z.enum(SIDEBAR_SEND_KINDS, { error: `kind must be one of ${SIDEBAR_SEND_KINDS.join(', ')}` }),
    contentId: z
      .string()
      .regex(/^[a-f0-9]{24}$/, { error: 'a content id (24 hex digits)' })
      .optional(),
    taskId: z
      .string()
      .regex(/^[a-f0-9]{24}$/, { error: 'a task id (24 hex digits)' })
      .optional(),
  })
  .strict();
export const sidebarGroupQuery = z
  .object({
    chatId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, { error: 'the chat id getCurExternalChat returned' }),
    corpId: corpIdSchema.optional(),
  })
  .strict();
export const sidebarNoteBody = z
  .object({
    externalUserid: sidebarCustomerQuery.shape.externalUserid,
    corpId: corpIdSchema.optional(),
    note: z.string().max(NOTE_MAX_CHARS, { error: `a note has at most ${NOTE_MAX_CHARS} characters` }),
  })
  .strict();
export const jsapiConfigQuery = z
  .object({
    url: z.string().min(1).max(2048),
    corpId: corpIdSchema.optional(),
  })
  .strict();

/** What `ww.register` needs (docs/wecom.md §10.4); the tickets stay on the server. */
export interface JsapiConfig {
  corpId: string;
  agentId: number;
  config: JsapiSignature;
  agentConfig: JsapiSignature;
}

export type { SidebarGroupView, SidebarView };

/** The corp the sidebar acts in: the one named, or a one-corp principal's only corp. */
function sidebarCorp(p: Principal, named: string | undefined): string {
  const corpId = named ?? (p.corps !== '*' && p.corps.length === 1 ? p.corps[0] : undefined);
  if (!corpId) throw new ValidationError([{ path: '/corpId', message: 'required: which corp the chat belongs to' }]);
  assertCorp(p, corpId, 'read');
  return corpId;
}

/**
 * `/api/v1/sidebar/*` (docs/console.md, "Advisor sidebar"): the chat-toolbar page's data. The
 * contact id comes from the WeCom client (`getCurExternalContact`), so it is never trusted: the
 * customer is shown only to a member with an active relationship (managers: their departments'),
 * a refusal is audited, and every view is audited before it is answered.
 */
export function createSidebarRouter(deps: ApiDeps): Router {
  const router = new Router();
  const reqId = (ctx: Context) => ctx.state.reqId as string | undefined;

  /**
   * Audits a refusal (`known`: the bot knows the customer or group, it is just not this member's),
   * then throws `error`: a 404 for an unknown one, a 403 for someone else's.
   */
  async function refuse(
    ctx: Context,
    p: Principal,
    target: { type: 'customer' | 'group'; id?: string; corpId: string },
    known: boolean,
    error: NotFoundError | ForbiddenError,
  ): Promise<never> {
    await recordAudit({
      actor: p,
      action: 'sidebar.refused',
      target,
      requestId: reqId(ctx),
      at: deps.clock.now(),
      detail: { known },
    });
    throw error;
  }

  /** The customer behind a client-reported contact id, if this principal may act on them; refusals are audited. */
  async function permitted(ctx: Context, p: Principal, corpId: string, externalUserId: string) {
    const customer = await customerByExternalId(corpId, externalUserId);
    if (!customer)
      return refuse(
        ctx,
        p,
        { type: 'customer', corpId },
        false,
        new NotFoundError(
          'this contact is not among the customers the bot knows (not added through this corp, or not synced yet)',
          'customer_not_found',
        ),
      );
    const access = await sidebarAccess(p, corpId, externalUserId);
    if (!access)
      return refuse(
        ctx,
        p,
        { type: 'customer', id: String(customer._id), corpId },
        true,
        new ForbiddenError(
          'this customer is not one of yours: the sidebar shows only customers you follow (managers: those of your departments)',
          'not_your_customer',
        ),
      );
    return { customer, access };
  }

  /**
   * Images offered without a current media id in this corp: the worker uploads them (never WeCom
   * inside a request), so they can be sent the next time the page loads. A queue outage only delays that.
   */
  async function requestImageUploads(corpId: string, view: SidebarView, now: Date): Promise<void> {
    const assets = new Set(
      view.content.flatMap((i) => (i.unavailable === 'image_not_uploaded' && i.assetId ? [i.assetId] : [])),
    );
    const bucket = Math.floor(now.getTime() / CONTENT_MEDIA_BUCKET_MS);
    await Promise.all(
      [...assets].map((assetId) =>
        contentMediaUploadJob
          .enqueue(deps.queues, { corpId, assetId, bucket })
          .catch((err: unknown) =>
            deps.logger.warn({ err: (err as Error).message, corpId }, 'image upload not queued'),
          ),
      ),
    );
  }

  router.get('/sidebar/customer', async function sidebarCustomer(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(sidebarCustomerQuery, ctx.query);
    const corpId = sidebarCorp(p, q.corpId);
    const now = deps.clock.now();
    const { customer, access } = await permitted(ctx, p, corpId, q.externalUserid);
    await recordAudit({
      actor: p,
      action: 'sidebar.read',
      target: { type: 'customer', id: String(customer._id), corpId },
      requestId: reqId(ctx),
      at: now,
      detail: { access },
    });
    const { timeZone } = await corpTaskSettings(corpId, deps.config.defaultTimezone);
    const view = await loadSidebarView(deps.pd, customer, { userid: p.userid, access, timeZone, now });
    if (!view) throw new NotFoundError('this customer was removed a moment ago', 'customer_not_found');
    await requestImageUploads(corpId, view, now);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = view;
  });

  /**
   * `POST /api/v1/sidebar/sends {externalUserid, kind, contentId?, taskId?}`: the page sent a
   * message into the chat (`sendChatMessage` answered ok); recorded as a touch for attribution.
   */
  router.post('/sidebar/sends', async function sidebarSend(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(sidebarSendBody, bodyOf(ctx) ?? {});
    const corpId = sidebarCorp(p, body.corpId);
    if (!p.userid)
      throw new ForbiddenError('only a WeCom member signed in to the sidebar sends into a chat', 'member_required');
    const { customer } = await permitted(ctx, p, corpId, body.externalUserid);
    if (body.contentId && !(await contentItemInCorp(corpId, body.contentId)))
      throw new NotFoundError(
        `no content item ${body.contentId} in this corp's library (deleted, or another corp's)`,
        'content_not_found',
      );
    const { timeZone } = await corpTaskSettings(corpId, deps.config.defaultTimezone);
    const at = deps.clock.now();
    const sent = await recordSidebarSend({
      corpId,
      customerId: customer._id,
      externalUserId: customer.externalUserId,
      sender: p.userid,
      kind: body.kind,
      contentId: body.contentId,
      taskId: body.taskId,
      at,
      timeZone,
    });
    await recordAudit({
      actor: p,
      action: 'sidebar.send',
      target: { type: 'customer', id: String(customer._id), corpId },
      requestId: reqId(ctx),
      at,
      detail: { kind: body.kind, ...(body.contentId ? { contentId: body.contentId } : {}) },
    });
    ctx.status = 201;
    ctx.body = sent;
  });

  /**
   * `GET /api/v1/sidebar/group?chatId=`: the customer group the toolbar was opened in
   * (`getCurExternalChat`). Like the contact id, the chat id is never trusted: only a member who
   * owns, administers or is in the group sees it; a refusal is audited, every view too.
   */
  router.get('/sidebar/group', async function sidebarGroup(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(sidebarGroupQuery, ctx.query);
    const corpId = sidebarCorp(p, q.corpId);
    const now = deps.clock.now();
    const { group, role } = await sidebarGroupAccess(corpId, q.chatId, p.userid);
    const target = { type: 'group' as const, id: q.chatId, corpId };
    if (!group)
      return refuse(
        ctx,
        p,
        target,
        false,
        new NotFoundError(
          'this group is not among the customer groups the bot knows (not synced yet, or not a customer group of this corp)',
          'group_not_found',
        ),
      );
    if (!role || !p.userid)
      return refuse(
        ctx,
        p,
        target,
        true,
        new ForbiddenError(
          'this group is not one of yours: the sidebar shows only groups you own, administer or are a member of',
          'not_your_group',
        ),
      );
    await recordAudit({
      actor: p,
      action: 'sidebar.read',
      target,
      requestId: reqId(ctx),
      at: now,
      detail: { role },
    });
    const { timeZone } = await corpTaskSettings(corpId, deps.config.defaultTimezone);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await loadSidebarGroup(deps.pd, corpId, group, { userid: p.userid, role, timeZone, now });
  });

  /**
   * `GET /api/v1/sidebar/note?externalUserid=`: the advisor's note about the customer, for the
   * phone task page (the sidebar's customer view carries it too). Audited like a view.
   */
  router.get('/sidebar/note', async function sidebarNote(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(sidebarCustomerQuery, ctx.query);
    const corpId = sidebarCorp(p, q.corpId);
    const { customer, access } = await permitted(ctx, p, corpId, q.externalUserid);
    await recordAudit({
      actor: p,
      action: 'sidebar.read',
      target: { type: 'customer', id: String(customer._id), corpId },
      requestId: reqId(ctx),
      at: deps.clock.now(),
      detail: { access, part: 'note' },
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { note: (await noteForViewer(deps.pd, customer, p.userid, access === 'own')) ?? null };
  });

  /**
   * `PUT /api/v1/sidebar/note {externalUserid, note}`: writes the signed-in advisor's own note
   * (an empty one clears it); only on their active relationship. Audited without the text.
   */
  router.put('/sidebar/note', async function sidebarWriteNote(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(sidebarNoteBody, bodyOf(ctx) ?? {});
    const corpId = sidebarCorp(p, body.corpId);
    if (!p.userid)
      throw new ForbiddenError('only a WeCom member signed in to the sidebar writes a note', 'member_required');
    const { customer } = await permitted(ctx, p, corpId, body.externalUserid);
    const at = deps.clock.now();
    const note = await writeNote(deps.pd, customer, p.userid, body.note, at);
    await recordAudit({
      actor: p,
      action: 'sidebar.note',
      target: { type: 'customer', id: String(customer._id), corpId },
      requestId: reqId(ctx),
      at,
      detail: { cleared: !note.text },
    });
    ctx.body = { note };
  });

  /**
   * `GET /api/v1/sidebar/jsapi-config?url=`: signatures for `ww.register` (docs/wecom.md §10.3)
   * for a page of this console. The tickets come from the Redis cache; only a cold cache calls
   * WeCom (once per two hours per app, single-flight), which the page waits for like a sign-in.
   */
  router.get('/sidebar/jsapi-config', async function jsapiConfig(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(jsapiConfigQuery, ctx.query);
    const corpId = sidebarCorp(p, q.corpId);
    if (!q.url.startsWith(`${deps.config.publicBaseUrl}/console/`)) {
      throw new ValidationError([
        {
          path: '/url',
          message: `only pages of this console are signed: the URL must start with ${deps.config.publicBaseUrl}/console/`,
        },
      ]);
    }
    if (!deps.jsapi)
      throw new ServiceUnavailableError('JS-SDK signing is not configured in this process', 'jsapi_unavailable');
    const [corpTicket, agentTicket] = await Promise.all([
      deps.jsapi.ticket(corpId, 'corp'),
      deps.jsapi.ticket(corpId, 'agent'),
    ]);
    const nowMs = deps.clock.nowMs();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      corpId,
      agentId: agentTicket.agentId,
      config: signJsapi(corpTicket.ticket, q.url, nowMs),
      agentConfig: signJsapi(agentTicket.ticket, q.url, nowMs),
    } satisfies JsapiConfig;
  });

  return router;
}
