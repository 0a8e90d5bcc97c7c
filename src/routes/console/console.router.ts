import type Koa from 'koa';
import { createConsoleAuthRouter } from './console-auth.routes.js';
import { createConsoleDevRouter } from './console-dev.routes.js';
import type { ConsoleDeps } from './console-deps.js';
import { createConsoleStatic } from './console-static.js';
import { ROUTE_POLICIES } from '../policy/route-policies.js';
import { applyRoutePolicies } from '../policy/route-policy.js';

/** Everything the web process mounts for the console (docs/console.md): auth routes, then the SPA. */
export function createConsoleMounts(deps: ConsoleDeps): Array<Koa.Middleware<Koa.DefaultState, never>> {
  const auth = createConsoleAuthRouter(deps);
  applyRoutePolicies(auth, ROUTE_POLICIES, '/console/auth/');
  const dev = createConsoleDevRouter(deps);
  applyRoutePolicies(dev, ROUTE_POLICIES, '/console/dev/');
  return [
    auth.routes(),
    auth.allowedMethods(),
    dev.routes(),
    dev.allowedMethods(),
    createConsoleStatic(deps.consoleDir) as Koa.Middleware<Koa.DefaultState, never>,
  ];
}
