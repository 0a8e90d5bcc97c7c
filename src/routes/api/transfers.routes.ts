import Router from '@koa/router';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { z } from 'zod';
import { corpIdSchema } from '../../domain/corps/corp.types.js';
import {
  activeCustomersOf,
  findScopedTransfer,
  listTransfers as findTransfers,
} from '../../domain/tasks/transfer-queries.js';
import { presentTransfer, transferStartBody } from './transfer-present.js';
import { requestTransferStart } from '../../domain/tasks/transfer.service.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';
import { requireDealerCorp } from '../../domain/corps/corp-queries.js';
import { assertReassignable } from '../../domain/tasks/task-queries.js';
import { managedAdvisors } from '../../domain/customers/advisor-queries.js';

/**
 * `/api/v1/transfers` (docs/tasks.md): a manager moves customers to another advisor through WeCom
 * (docs/wecom.md §3.15–§3.17). The start is a job (WeCom is never called inside a request); the
 * answer carries the transfer id to follow: per-customer results with WeCom's codes in words,
 * polled until final; tasks move on success only.
 */
/** Who starts transfers; who may follow them (the car maker's staff read, never start). */
export const TRANSFER_STARTERS = ['admin', 'dealer_admin', 'manager'] as const;
export const TRANSFER_READERS = ['admin', 'oem', 'dealer_admin', 'manager'] as const;

export const transferListQuery = z.object({ corpId: corpIdSchema.optional() });

export function createTransfersRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.post('/transfers', async function startTransferRoute(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(transferStartBody, bodyOf(ctx) ?? {});
    assertCorp(p, body.corpId, 'write');
    await requireDealerCorp(body.corpId, deps.config.defaultTimezone);
    if (body.handoverUserid === body.takeoverUserid)
      throw new ValidationError([
        { path: '/takeoverUserid', message: 'must differ from handoverUserid (WeCom 40130)' },
      ]);
    // A manager moves customers of their own departments only, to a member of them.
    if (p.role === 'manager' && !(await managedAdvisors(p)).includes(body.handoverUserid))
      throw new ForbiddenError(`${body.handoverUserid} is not in your departments`, 'advisor_forbidden');
    await assertReassignable(p, body.corpId, body.takeoverUserid);
    const externalUserIds = body.externalUserIds ?? (await activeCustomersOf(body.corpId, body.handoverUserid));
    if (externalUserIds.length === 0)
      throw new ValidationError([
        { path: '/externalUserIds', message: `${body.handoverUserid} has no active customers to transfer` },
      ]);
    const id = await requestTransferStart(
      deps.queues,
      body.corpId,
      { ...body, externalUserIds },
      `user:${p.userid ?? p.tokenId}`,
    );
    await recordAudit({
      actor: p,
      action: 'transfer.start',
      target: { type: 'transfer', id, corpId: body.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: {
        kind: body.kind,
        handover: body.handoverUserid,
        takeover: body.takeoverUserid,
        customers: externalUserIds.length,
      },
      at: deps.clock.now(),
    });
    ctx.status = 202;
    ctx.body = { id, status: 'requested', customers: externalUserIds.length };
  });

  router.get('/transfers', async function listTransfers(ctx) {
    const p = principalOf(ctx);
    const { corpId } = parseOrThrow(transferListQuery, ctx.query);
    // The query narrows the principal's scope, never replaces it: another corp is a 404.
    if (corpId) assertCorp(p, corpId, 'read');
    const rows = await findTransfers(p, corpId);
    ctx.body = {
      transfers: rows.map((t) => {
        const { nextPollAt: _omit, ...rest } = presentTransfer(t);
        return rest;
      }),
    };
  });

  router.get('/transfers/:id', async function getTransfer(ctx) {
    const id = ctx.params.id ?? '';
    const t = await findScopedTransfer(principalOf(ctx), id);
    if (!t)
      throw new NotFoundError(
        `no transfer ${id} (a just-requested one appears once the worker started it)`,
        'transfer_not_found',
      );
    ctx.body = presentTransfer(t);
  });
  return router;
}
