import type { Context } from 'koa';
import { Types } from 'mongoose';
import { canAccessCorp, type Principal } from '../../domain/auth/principal.js';
import { keepVisible, visibleAdvisors } from '../../domain/customers/customer-access.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { NotFoundError } from '../../infra/errors.js';

export interface ScopedCustomer {
  _id: Types.ObjectId;
  corpId: string;
  responsibleUserid?: string | null;
}

/**
 * The customer of `:id` if the principal may see it: their corp, and for managers and advisors
 * also their own customers (customer-access.ts: advisor follows or is responsible; manager: an
 * advisor of their departments does). Anything else is a 404, like a missing customer (nothing
 * is revealed). One rule for the customers and the personal-data routes.
 */
export async function scopedCustomer(ctx: Context, p: Principal): Promise<ScopedCustomer> {
  const id = ctx.params.id ?? '';
  const missing = () => new NotFoundError(`no customer ${id}`, 'customer_not_found');
  if (!Types.ObjectId.isValid(id)) throw missing();
  const customer = await CustomerModel.findById(id, { corpId: 1, responsibleUserid: 1 }).lean();
  if (!customer) throw missing();
  // Another corp's customer answers exactly like a missing one (same status and code).
  if (!canAccessCorp(p, customer.corpId)) throw missing();
  if ((await keepVisible(customer.corpId, [customer], await visibleAdvisors(p))).length === 0) throw missing();
  return customer;
}
