import type { Context } from 'koa';
import type { Principal } from '../../domain/auth/principal.js';
import { findScopedCustomer, type ScopedCustomer } from '../../domain/customers/customer-queries.js';

export type { ScopedCustomer } from '../../domain/customers/customer-queries.js';

/** The customer of `:id` if the principal may see it, else a 404 (customer-queries.ts). */
export async function scopedCustomer(ctx: Context, p: Principal): Promise<ScopedCustomer> {
  return findScopedCustomer(p, ctx.params.id ?? '');
}
