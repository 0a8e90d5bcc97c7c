import { z } from 'zod';
import type { Principal } from './principal.js';

const userids = z
  .array(z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'a WeCom userid' }))
  .max(500)
  .default([]);

/**
 * Who gets a console role, per corp. In a dealer corp, everyone not listed signs in as `advisor`,
 * or `manager` when they lead departments (Advisor.leadsDepartments). In the car maker's corp
 * (kind `oem`) nobody gets in unless listed: `oem` (rule authors, every dealer) or `analysts`
 * (KPIs only, no customer data); those two lists mean nothing in a dealer corp.
 * `admins` become operator admins (every corp, like an admin API token): list them sparingly.
 */
export const consoleRolesSchema = z
  .object({
    admins: userids,
    dealerAdmins: userids,
    marketing: userids,
    oem: userids,
    analysts: userids,
  })
  .strict();

export type ConsoleRoles = z.output<typeof consoleRolesSchema>;
export const defaultConsoleRoles: ConsoleRoles = { admins: [], dealerAdmins: [], marketing: [], oem: [], analysts: [] };

export interface MemberFacts {
  corpId: string;
  corpKind: 'dealer' | 'oem';
  userid: string;
  roles: ConsoleRoles;
  /** Departments the member leads (from the contact sync); empty for non-leaders. */
  leadsDepartments: readonly number[];
  /** Identifies the sign-in in audit and rate limiting. */
  sessionTag: string;
}

/**
 * Maps a WeCom member who signed in to a principal with the same scoping as an API token of
 * that role, or undefined when the member has no console role: members of the car maker's corp
 * need to be listed (`admins`, `oem`, `analysts`); in a dealer corp configured userids win over
 * the department-derived `manager`/`advisor`.
 */
export function principalForMember(m: MemberFacts): Principal | undefined {
  const base = { userid: m.userid, tokenId: m.sessionTag };
  if (m.roles.admins.includes(m.userid)) return { ...base, role: 'admin', corps: '*' };
  if (m.corpKind === 'oem') {
    if (m.roles.oem.includes(m.userid)) return { ...base, role: 'oem', corps: '*' };
    if (m.roles.analysts.includes(m.userid)) return { ...base, role: 'analyst', corps: '*' };
    return undefined;
  }
  if (m.roles.dealerAdmins.includes(m.userid)) return { ...base, role: 'dealer_admin', corps: [m.corpId] };
  if (m.roles.marketing.includes(m.userid)) return { ...base, role: 'marketing', corps: [m.corpId] };
  if (m.leadsDepartments.length > 0)
    return { ...base, role: 'manager', corps: [m.corpId], departments: [...m.leadsDepartments] };
  return { ...base, role: 'advisor', corps: [m.corpId] };
}
