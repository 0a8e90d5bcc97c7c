import Router from '@koa/router';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { corpFilter } from '../../domain/auth/principal.js';
import { RelationshipModel } from '../../domain/customers/relationship.model.js';
import { TransferModel } from '../../domain/tasks/transfer.model.js';
import { requestTransferStart } from '../../domain/tasks/transfer.service.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp, requireRoles } from '../../middlewares/authorize.js';
import { NotFoundError, ValidationError } from '../../middlewares/errors.js';
import { parseOrThrow } from '../../middlewares/validate.js';
import { bodyOf, type ApiDeps } from './api-deps.js';
import { requireDealerCorp } from './corp-scope.js';
import { assertReassignable } from './task-scope.js';

const userid = z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'a WeCom userid' });
const startBody = z.object({
  corpId: z.string().min(1).max(64),
  kind: z.enum(['in_service', 'resigned'], { error: 'kind is in_service (在职继承) or resigned (离职继承)' }),
  handoverUserid: userid,
  takeoverUserid: userid,
  /** The customers to move; omitted = every active customer of the handover advisor. */
  externalUserIds: z.array(z.string().min(1).max(128)).min(1).max(1000).optional(),
  transferSuccessMsg: z.string().max(200, { error: 'WeCom allows at most 200 characters' }).optional(),
}).strict();

/**
 * `/api/v1/transfers` (issue 8): a manager moves customers to another advisor through WeCom
 * (reference §3.15–§3.17). The start is a job (WeCom is never called inside a request); the
 * answer carries the transfer id to follow: per-customer results with WeCom's codes in words,
 * polled until final; tasks move on success only.
 */
export function createTransfersRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.post('/transfers', requireRoles('admin', 'dealer_admin', 'manager'), async function startTransferRoute(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(startBody, bodyOf(ctx) ?? {});
    assertCorp(p, body.corpId, 'write');
    await requireDealerCorp(body.corpId, deps.config.defaultTimezone);
    if (body.handoverUserid === body.takeoverUserid) throw new ValidationError([{ path: '/takeoverUserid', message: 'must differ from handoverUserid (WeCom 40130)' }]);
    await assertReassignable(p, body.corpId, body.takeoverUserid);
    const externalUserIds = body.externalUserIds ?? (await RelationshipModel.find({ corpId: body.corpId, userid: body.handoverUserid, status: 'active' }, { externalUserId: 1 }).lean()).map((r) => r.externalUserId);
    if (externalUserIds.length === 0) throw new ValidationError([{ path: '/externalUserIds', message: `${body.handoverUserid} has no active customers to transfer` }]);
    const id = await requestTransferStart(deps.queues, body.corpId, { ...body, externalUserIds }, `user:${p.userid ?? p.tokenId}`);
    await recordAudit({ actor: p, action: 'transfer.start', target: { type: 'transfer', id, corpId: body.corpId }, requestId: ctx.state.reqId as string | undefined, detail: { kind: body.kind, handover: body.handoverUserid, takeover: body.takeoverUserid, customers: externalUserIds.length }, at: deps.clock.now() });
    ctx.status = 202;
    ctx.body = { id, status: 'requested', customers: externalUserIds.length };
  });

  router.get('/transfers', requireRoles('admin', 'oem', 'dealer_admin', 'manager'), async function listTransfers(ctx) {
    const corpId = typeof ctx.query.corpId === 'string' ? ctx.query.corpId : undefined;
    const rows = await TransferModel.find({ ...corpFilter(principalOf(ctx)), ...(corpId ? { corpId } : {}) }).sort({ _id: -1 }).limit(100).lean();
    ctx.body = { transfers: rows.map((t) => ({ id: String(t._id), corpId: t.corpId, kind: t.kind, handoverUserid: t.handoverUserid, takeoverUserid: t.takeoverUserid, status: t.status, customers: t.customers })) };
  });

  router.get('/transfers/:id', requireRoles('admin', 'oem', 'dealer_admin', 'manager'), async function getTransfer(ctx) {
    const id = ctx.params.id ?? '';
    const t = /^[a-f0-9]{24}$/.test(id) ? await TransferModel.findOne({ _id: id, ...corpFilter(principalOf(ctx)) }).lean() : null;
    if (!t) throw new NotFoundError(`no transfer ${id} (a just-requested one appears once the worker started it)`, 'transfer_not_found');
    ctx.body = { id: String(t._id), corpId: t.corpId, kind: t.kind, handoverUserid: t.handoverUserid, takeoverUserid: t.takeoverUserid, status: t.status, customers: t.customers, nextPollAt: t.nextPollAt };
  });
  return router;
}
