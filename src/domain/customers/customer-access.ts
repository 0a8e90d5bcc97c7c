import type { Types } from 'mongoose';
import { corpFilter, type Principal } from '../auth/principal.js';
import { AdvisorModel } from './advisor.model.js';
import { RelationshipModel } from './relationship.model.js';

/**
 * Whose customers a principal sees (docs/architecture.md §5, object level, the same rule as the privacy
 * routes): `undefined` means every customer of their corps (admin, dealer_admin); an advisor
 * sees customers they follow or are responsible for; a manager those of the advisors in the
 * departments they lead (and their own).
 */
export async function visibleAdvisors(p: Principal): Promise<string[] | undefined> {
  if (p.role === 'advisor') return p.userid ? [p.userid] : [];
  if (p.role !== 'manager') return undefined;
  const team =
    (p.departments?.length ?? 0) > 0
      ? await AdvisorModel.find(
          { ...corpFilter(p), departments: { $in: [...(p.departments ?? [])] } },
          { userid: 1 },
        ).lean()
      : [];
  return [...new Set([...team.map((a) => a.userid), ...(p.userid ? [p.userid] : [])])];
}

interface Scopable {
  _id: Types.ObjectId;
  responsibleUserid?: string | null;
}

/** Keeps the customers (of one corp) that `advisors` may see: responsible for, or following (any status). */
export async function keepVisible<T extends Scopable>(
  corpId: string,
  customers: T[],
  advisors: string[] | undefined,
): Promise<T[]> {
  if (advisors === undefined || customers.length === 0) return customers;
  const allowed = new Set(advisors);
  const followed = await RelationshipModel.find(
    { corpId, customerId: { $in: customers.map((c) => c._id) }, userid: { $in: advisors } },
    { customerId: 1 },
  ).lean();
  const mine = new Set(followed.map((r) => String(r.customerId)));
  return customers.filter((c) => (c.responsibleUserid && allowed.has(c.responsibleUserid)) || mine.has(String(c._id)));
}
