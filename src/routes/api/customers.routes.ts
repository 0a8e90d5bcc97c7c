import Router from '@koa/router';
import { Types } from 'mongoose';
import { customerAttributesSchema, updateCustomerAttributes } from '../../domain/customers/customer-attributes.service.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp, requireRoles } from '../../middlewares/authorize.js';
import { NotFoundError } from '../../middlewares/errors.js';
import { parseOrThrow } from '../../middlewares/validate.js';
import type { ApiDeps } from './api-deps.js';

/** Customer routes of the admin API (attributes here; profiles and search come with the console). */
export function createCustomersRouter(deps: ApiDeps): Router {
  const router = new Router();
  /**
   * `PATCH /api/v1/customers/:id/attributes`: birthday, preferred contact time, DMS notes (`null`
   * clears). Personal values are sealed; a changed birthday emits `customer.anchor_changed`.
   */
  router.patch('/customers/:id/attributes', requireRoles('admin', 'dealer_admin', 'integration'), async function patchAttributes(ctx) {
    const id = ctx.params.id ?? '';
    if (!Types.ObjectId.isValid(id)) throw new NotFoundError(`no customer ${id}`, 'customer_not_found');
    const attrs = parseOrThrow(customerAttributesSchema, (ctx.request as unknown as { body?: unknown }).body ?? {});
    const customer = await CustomerModel.findById(id, { corpId: 1 }).lean();
    if (!customer) throw new NotFoundError(`no customer ${id}`, 'customer_not_found');
    const principal = principalOf(ctx);
    assertCorp(principal, customer.corpId, 'read'); // another corp's customer is a 404, like a missing one
    const { changed } = await updateCustomerAttributes({ corpId: customer.corpId, pd: deps.pd, queues: deps.queues, now: () => deps.clock.now() }, customer._id, attrs);
    await recordAudit({ actor: principal, action: 'customer.update_attributes', target: { type: 'customer', id, corpId: customer.corpId }, requestId: ctx.state.reqId as string | undefined, detail: { fields: changed }, at: deps.clock.now() });
    ctx.body = { id, changed };
  });
  return router;
}
