import { ROLES, type Role } from '../../domain/auth/principal.js';
import { ROUTE_POLICIES, type RoutePolicy } from './route-policies.js';

export const TABLE_START = '<!-- policy-table:start (npm run security:docs) -->';
export const TABLE_END = '<!-- policy-table:end -->';

const TEAM: Record<NonNullable<RoutePolicy['team']>, string> = {
  department_and_advisor: 'manager: own departments; advisor: own',
  department: 'manager: own departments',
};
const CORP: Record<RoutePolicy['corp'], string> = { scoped: 'own corps', platform: 'operator (all corps)', none: '—' };

/** The policy table as markdown, one row per route, one column per role (✓ = allowed). */
export function renderPolicyTable(): string {
  const roles: readonly Role[] = ROLES;
  const header = `| Route | ${roles.join(' | ')} | Corp | Team | Personal data | What |`;
  const rule = `|---|${roles.map(() => ':-:').join('|')}|---|---|:-:|---|`;
  const rows = Object.entries(ROUTE_POLICIES).map(([key, p]) => {
    const cells = roles.map((r) => (p.roles === 'public' ? 'public' : p.roles.includes(r) ? '✓' : ''));
    return `| \`${key}\` | ${cells.join(' | ')} | ${CORP[p.corp]} | ${p.team ? TEAM[p.team] : ''} | ${p.personalData ? 'yes' : ''} | ${p.what} |`;
  });
  return [header, rule, ...rows].join('\n');
}

/** `doc` with the text between the table markers replaced by the current table. */
export function withPolicyTable(doc: string): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`docs/security.md needs the markers ${TABLE_START} and ${TABLE_END}`);
  return `${doc.slice(0, start + TABLE_START.length)}\n${renderPolicyTable()}\n${doc.slice(end)}`;
}
