import type { Router } from 'vue-router';
import type { Role } from './api-types.js';

/** The shell's main navigation, in order; `key` names the label under `shell.nav`. */
export const NAV_ITEMS = [
  { key: 'campaigns', path: '/campaigns' },
  { key: 'content', path: '/content' },
  { key: 'tasks', path: '/tasks' },
  { key: 'customers', path: '/customers' },
  { key: 'transfers', path: '/transfers' },
  { key: 'channels', path: '/channels' },
  { key: 'leads', path: '/leads' },
  { key: 'groups', path: '/groups' },
  { key: 'groupWelcome', path: '/group-welcome' },
  { key: 'broadcasts', path: '/broadcasts' },
  { key: 'moments', path: '/moments' },
  { key: 'cockpit', path: '/cockpit' },
  { key: 'settings', path: '/settings' },
  { key: 'myTasks', path: '/m/tasks' },
  { key: 'myLeads', path: '/m/leads' },
] as const;

export type NavItem = (typeof NAV_ITEMS)[number];

/**
 * The links a role sees: those whose page exists and whose route allows the role (`meta.roles`,
 * the same list the router guard enforces), so the nav never offers a page that would refuse.
 */
export function navFor(router: Router, role: Role): NavItem[] {
  return NAV_ITEMS.filter((item) => {
    const target = router.resolve(item.path);
    const route = target.matched.at(-1);
    if (!route || route.meta.notFound) return false;
    return !route.meta.roles || route.meta.roles.includes(role);
  });
}

/** Where a role starts: advisors on their phone task list, everyone else on the first page they may open. */
export function homeFor(router: Router, role: Role): string {
  if (role === 'advisor') return '/m/tasks';
  // A role without any page (an integration token) lands on sign-in rather than looping between refusals.
  return navFor(router, role)[0]?.path ?? '/login';
}
