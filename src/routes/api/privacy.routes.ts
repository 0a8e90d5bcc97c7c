import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { customerPrivacyFlags } from '../../domain/customers/customer-queries.js';
import { eraseCustomer } from '../../domain/privacy/erasure.service.js';
import { erasureRequestSchema } from '../../domain/privacy/erasure-reasons.js';
import { exportCustomer } from '../../domain/privacy/export.service.js';
import { optOutSourceSchema, setOptOut } from '../../domain/privacy/opt-out.service.js';
import { principalOf } from '../../middlewares/auth.js';
import { NotFoundError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';
import { scopedCustomer } from './customer-scope.js';

/** Who may erase and export: the platform admin and the dealer's own admin (the dealer is the PIPL handler). */
export const PRIVACY_ADMINS = ['admin', 'dealer_admin'] as const;
/** Who may record an opt-out: admins, managers (their departments' customers) and the customer's advisor. */
export const OPT_OUT_RECORDERS = ['admin', 'dealer_admin', 'manager', 'advisor'] as const;

export const optOutBodySchema = z.object({ source: optOutSourceSchema.exclude(['erasure']).default('api') }).strict();

/**
 * Personal-data routes (docs/data-inventory.md, PIPL Art. 15, 24, 45, 47): erasure, export, opt-out. Every call is
 * audited with ids, codes and counts, never personal values.
 */
export function createPrivacyRouter(deps: ApiDeps): Router {
  const router = new Router();
  const reqId = (ctx: Context) => ctx.state.reqId as string | undefined;
  // The API's body parser reads POST/PUT/PATCH only; these DELETEs carry a small JSON body too.
  const deleteBody = bodyParser({ enableTypes: ['json'], jsonLimit: '16kb', parsedMethods: ['DELETE'] });

  /** `DELETE /api/v1/customers/:id` with `{ reason, ticket? }`: erases the customer's personal data. */
  router.delete('/customers/:id', deleteBody, async function eraseCustomerRoute(ctx) {
    const p = principalOf(ctx);
    const body = parseOrThrow(erasureRequestSchema, bodyOf(ctx) ?? {});
    const customer = await scopedCustomer(ctx, p);
    const summary = await eraseCustomer(
      { queues: deps.queues, clock: deps.clock, hasher: deps.pd.hasher, cipher: deps.pd.cipher },
      {
        corpId: customer.corpId,
        customerId: String(customer._id),
        reason: body.reason,
        ticket: body.ticket,
        actor: p,
        requestId: reqId(ctx),
      },
    );
    ctx.body = { erased: true, ...summary };
  });

  /** `GET /api/v1/customers/:id/export`: everything held about the customer, as JSON. */
  router.get('/customers/:id/export', async function exportCustomerRoute(ctx) {
    const p = principalOf(ctx);
    const customer = await scopedCustomer(ctx, p);
    const now = deps.clock.now();
    // Audited before the data leaves: an export that cannot be recorded is not given.
    await recordAudit({
      actor: p,
      action: 'customer.export',
      target: { type: 'customer', id: String(customer._id), corpId: customer.corpId },
      requestId: reqId(ctx),
      at: now,
    });
    const data = await exportCustomer(deps.pd, customer.corpId, String(customer._id), now);
    if (!data) throw new NotFoundError(`no customer ${String(customer._id)}`, 'customer_not_found');
    ctx.set('Content-Disposition', `attachment; filename="customer-${String(customer._id)}.json"`);
    ctx.body = data;
  });

  /** `GET /api/v1/customers/:id/privacy`: opt-out, notice and erasure state for the customer profile. */
  router.get('/customers/:id/privacy', async function privacyState(ctx) {
    const customer = await scopedCustomer(ctx, principalOf(ctx));
    const doc = await customerPrivacyFlags(customer._id);
    ctx.body = {
      id: String(customer._id),
      optOut: {
        value: Boolean(doc?.optOut?.value),
        at: doc?.optOut?.at ?? undefined,
        source: doc?.optOut?.source ?? undefined,
      },
      privacyNotice: doc?.privacyNotice?.version ? doc.privacyNotice : undefined,
      erasedAt: doc?.erasedAt ?? undefined,
    };
  });

  const optOutRoute = (value: boolean) =>
    async function optOutChange(ctx: Context) {
      const p = principalOf(ctx);
      const body = parseOrThrow(optOutBodySchema, bodyOf(ctx) ?? {});
      const customer = await scopedCustomer(ctx, p);
      const id = String(customer._id);
      const result = await setOptOut(
        { queues: deps.queues, now: () => deps.clock.now() },
        { corpId: customer.corpId, customerId: id, optOut: value, source: body.source },
      );
      await recordAudit({
        actor: p,
        action: value ? 'customer.opt_out' : 'customer.opt_in',
        target: { type: 'customer', id, corpId: customer.corpId },
        requestId: reqId(ctx),
        at: deps.clock.now(),
        detail: {
          source: body.source,
          changed: result.changed,
          cancelledQueued: result.cancelledQueued,
          pendingCancelRequested: result.pendingCancelRequested,
        },
      });
      ctx.body = { id, optOut: value, ...result };
    };
  /** `POST /api/v1/customers/:id/opt-out` `{ source? }`: no more automated marketing. */
  router.post('/customers/:id/opt-out', optOutRoute(true));
  /** `DELETE /api/v1/customers/:id/opt-out`: the customer asked to receive campaigns again. */
  router.delete('/customers/:id/opt-out', deleteBody, optOutRoute(false));
  return router;
}
