import { z } from 'zod';

/**
 * Roles of docs/architecture.md §5, from the widest to the narrowest. `analyst` is the car maker's read-only
 * role: KPIs and aggregates of every dealer, no customer personal data (docs/security.md).
 */
export const ROLES = [
  'admin',
  'oem',
  'analyst',
  'dealer_admin',
  'marketing',
  'manager',
  'advisor',
  'integration',
] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}` });

/**
 * Who is calling (docs/architecture.md §5): `corps` is `'*'` for roles that see every corp (admin, oem, analyst),
 * otherwise the corp ids the principal acts in. Managers carry the departments they lead,
 * advisors their own userid. `tokenId` names the credential for audit and rate limiting.
 */
export interface Principal {
  role: Role;
  corps: '*' | readonly string[];
  userid?: string;
  departments?: readonly number[];
  tokenId: string;
}

/**
 * Who may read customers' personal data (names, mobiles; a lead's too): the dealer's own people,
 * advisors and managers scoped to their customers (docs/security.md). The car maker, marketing and
 * analysts see stages and figures without them. One list, so customers and leads cannot drift.
 */
export const PERSONAL_DATA_READERS = ['admin', 'dealer_admin', 'manager', 'advisor'] as const satisfies readonly Role[];
export const readsPersonalData = (p: Principal): boolean => (PERSONAL_DATA_READERS as readonly Role[]).includes(p.role);

/** Roles whose principals see every corp. */
export const ALL_CORPS_ROLES: readonly Role[] = ['admin', 'oem', 'analyst'];

export function canAccessCorp(p: Principal, corpId: string): boolean {
  return p.corps === '*' || p.corps.includes(corpId);
}

/** A MongoDB filter fragment limiting `field` to the principal's corps (empty for all-corps roles). */
export function corpFilter(p: Principal, field = 'corpId'): Record<string, unknown> {
  return p.corps === '*' ? {} : { [field]: { $in: [...p.corps] } };
}
