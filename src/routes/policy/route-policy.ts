import type Router from '@koa/router';
import { requireRoles } from '../../middlewares/authorize.js';
import type { RoutePolicy } from './route-policies.js';

/** The policy-table key of a router layer: its method (GET for HEAD+GET) and registered path. */
export function routeKeys(router: Router): string[] {
  return router.stack
    .filter((l) => l.methods.length > 0)
    .map((l) => `${l.methods.find((m) => m !== 'HEAD') ?? 'GET'} ${l.path}`);
}

/**
 * Gives every route of `router` its authorization from the policy table (docs/security.md): the
 * role check for its entry runs first in the route's own middleware stack, before body parsing
 * and the handler; the handler still scopes the data it reads (corp, department, advisor).
 * Throws when a route has no entry, so a process with an unguarded route does not start.
 * `prefix` limits the table entries checked for being routed (one router holds part of the table).
 */
export function applyRoutePolicies(router: Router, table: Readonly<Record<string, RoutePolicy>>, prefix: string): void {
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const layer of router.stack) {
    if (layer.methods.length === 0) continue;
    const key = `${layer.methods.find((m) => m !== 'HEAD') ?? 'GET'} ${layer.path}`;
    seen.add(key);
    const policy = table[key];
    if (!policy) {
      missing.push(key);
      continue;
    }
    if (policy.roles !== 'public') layer.stack.unshift(requireRoles(...policy.roles));
  }
  const stale = Object.keys(table).filter((k) => k.split(' ')[1]?.startsWith(prefix) && !seen.has(k));
  if (missing.length || stale.length) {
    throw new Error(
      [
        ...(missing.length
          ? [`routes without an entry in the policy table (src/routes/policy/route-policies.ts): ${missing.join(', ')}`]
          : []),
        ...(stale.length ? [`policy table entries without a route: ${stale.join(', ')}`] : []),
      ].join('; '),
    );
  }
}
