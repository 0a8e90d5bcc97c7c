import type { Principal } from '../auth/principal.js';
import { visibleAdvisors } from '../customers/customer-access.js';
import { RelationshipModel } from '../customers/relationship.model.js';

/** Why the sidebar may show a customer: the member follows them, a manager's team does, or a corp-wide role. */
export type SidebarAccess = 'own' | 'team' | 'corp';

/**
 * The sidebar's rule (docs/console.md, "Advisor sidebar"), stricter than the profile's: the
 * contact the WeCom client reports must have an **active** relationship with the signed-in
 * member, or, for a manager, with an advisor of the departments they lead. Dealer admins and
 * admins see their corps' customers. Undefined = refuse.
 */
export async function sidebarAccess(
  p: Principal,
  corpId: string,
  externalUserId: string,
): Promise<SidebarAccess | undefined> {
  const advisors = await visibleAdvisors(p);
  if (advisors === undefined) return 'corp';
  if (advisors.length === 0) return undefined;
  const active = await RelationshipModel.find(
    { corpId, externalUserId, status: 'active', userid: { $in: advisors } },
    { userid: 1 },
  )
    .limit(50)
    .lean();
  if (active.some((r) => r.userid === p.userid)) return 'own';
  return active.length > 0 ? 'team' : undefined;
}
