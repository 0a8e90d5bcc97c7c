import { Types } from 'mongoose';
import { NotFoundError } from '../../infra/errors.js';
import { canAccessCorp, type Principal } from '../auth/principal.js';
import { keepVisible, visibleAdvisors } from './customer-access.js';
import { CustomerModel } from './customer.model.js';

/**
 * Customer look-ups the admin API, the console and the CLIs share (docs/architecture.md §10:
 * routes call these, never the customer model).
 */

export interface ScopedCustomer {
  _id: Types.ObjectId;
  corpId: string;
  responsibleUserid?: string | null;
}

/**
 * The customer `id` if the principal may see it: their corp, and for managers and advisors
 * also their own customers (customer-access.ts: advisor follows or is responsible; manager: an
 * advisor of their departments does). Anything else is a 404, like a missing customer (nothing
 * is revealed). One rule for the customers and the personal-data routes.
 */
export async function findScopedCustomer(p: Principal, id: string): Promise<ScopedCustomer> {
  const missing = () => new NotFoundError(`no customer ${id}`, 'customer_not_found');
  if (!Types.ObjectId.isValid(id)) throw missing();
  const customer = await CustomerModel.findById(id, { corpId: 1, responsibleUserid: 1 }).lean();
  if (!customer) throw missing();
  // Another corp's customer answers exactly like a missing one (same status and code).
  if (!canAccessCorp(p, customer.corpId)) throw missing();
  if ((await keepVisible(customer.corpId, [customer], await visibleAdvisors(p))).length === 0) throw missing();
  return customer;
}

/** The corp's customer with this WeCom external user id (id and keys only), or null. */
export function customerByExternalId(corpId: string, externalUserId: string) {
  return CustomerModel.findOne({ corpId, externalUserId }, { _id: 1, corpId: 1, externalUserId: 1 }).lean().exec();
}

/** The corp a customer belongs to, or null for an unknown (or malformed) id. */
export async function customerCorp(id: string): Promise<{ _id: Types.ObjectId; corpId: string } | null> {
  if (!Types.ObjectId.isValid(id)) return null;
  return CustomerModel.findById(id, { corpId: 1 }).lean();
}

/** A customer's opt-out, privacy notice and erasure state. */
export function customerPrivacyFlags(id: Types.ObjectId) {
  return CustomerModel.findById(id, { optOut: 1, privacyNotice: 1, erasedAt: 1 }).lean().exec();
}
