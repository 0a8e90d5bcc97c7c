import Router from '@koa/router';
import Koa from 'koa';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../domain/auth/principal.js';
import { ManualClock } from '../../infra/clock.js';
import { createErrorHandler } from '../../middlewares/errors.js';
import { testConfig } from '../../testing/env.js';
import { createApiRouter } from '../api/api.router.js';
import type { ApiDeps } from '../api/api-deps.js';
import { buildOpenApiDocument } from '../api/openapi.js';
import { createConsoleAuthRouter } from '../console/console-auth.routes.js';
import { createWebhooksRouter } from '../webhooks/webhooks.router.js';
import { createConsoleDevRouter } from '../console/console-dev.routes.js';
import type { ConsoleDeps } from '../console/console-deps.js';
import { ROUTE_POLICIES, type RoutePolicy } from './route-policies.js';
import { applyRoutePolicies, routeKeys } from './route-policy.js';

/** The routers as the web process builds them; nothing here touches Redis or MongoDB. */
function realRouters() {
  const config = testConfig();
  const api = createApiRouter({
    config,
    clock: new ManualClock(),
    queues: {},
    pd: {},
    redis: {},
    corpService: {},
  } as unknown as ApiDeps);
  const consoleAuth = createConsoleAuthRouter({
    config,
    clock: new ManualClock(),
    sessions: {},
    corp: () => undefined,
    corps: () => [],
    exchangeCode: async () => undefined,
    resolveToken: async () => undefined,
  } as unknown as ConsoleDeps);
  const webhooks = createWebhooksRouter({
    config,
    clock: new ManualClock(),
    queues: {},
    pd: {},
    redis: {},
    corpService: {},
  } as unknown as ApiDeps);
  const consoleDev = createConsoleDevRouter({ config } as unknown as ConsoleDeps);
  return { api, consoleAuth, webhooks, consoleDev };
}

describe('the policy table', () => {
  it('has exactly one entry per route of /api/v1, /webhooks, /console/auth and /console/dev', () => {
    const { api, consoleAuth, webhooks, consoleDev } = realRouters();
    const routed = [
      ...routeKeys(api),
      ...routeKeys(consoleAuth),
      ...routeKeys(webhooks),
      ...routeKeys(consoleDev),
    ].sort();
    expect(new Set(routed).size).toBe(routed.length);
    expect(Object.keys(ROUTE_POLICIES).sort()).toEqual(routed);
  });

  it('stops the start when a route has no entry, or an entry has no route', () => {
    const unguarded = new Router({ prefix: '/api/v1' });
    unguarded.get('/tasks', (ctx) => {
      ctx.body = {};
    });
    unguarded.get('/secret-new-route', (ctx) => {
      ctx.body = {};
    });
    expect(() =>
      applyRoutePolicies(
        unguarded,
        { 'GET /api/v1/tasks': ROUTE_POLICIES['GET /api/v1/tasks'] as RoutePolicy },
        '/api/v1/',
      ),
    ).toThrow(
      'routes without an entry in the policy table (src/routes/policy/route-policies.ts): GET /api/v1/secret-new-route',
    );
    const partial = new Router({ prefix: '/api/v1' });
    partial.get('/tasks', (ctx) => {
      ctx.body = {};
    });
    expect(() => applyRoutePolicies(partial, ROUTE_POLICIES, '/api/v1/')).toThrow(
      'policy table entries without a route: ',
    );
  });

  it('is what a route enforces: the roles of its entry, before its handler runs', async () => {
    const router = new Router({ prefix: '/x' });
    let ran = 0;
    router.post('/thing', (ctx) => {
      ran += 1;
      ctx.body = { ok: true };
    });
    applyRoutePolicies(router, { 'POST /x/thing': { roles: ['dealer_admin'], corp: 'scoped', what: 't' } }, '/x/');
    const as = (role: Principal['role']) => {
      const app = new Koa();
      app.use(createErrorHandler());
      app.use(async (ctx, next) => {
        ctx.state.principal = { role, corps: ['c1'], tokenId: 't' } satisfies Principal;
        await next();
      });
      app.use(router.routes());
      return request(app.callback());
    };
    const refused = await as('advisor').post('/x/thing').expect(403);
    expect(refused.body.error.code).toBe('role_forbidden');
    expect(ran).toBe(0);
    await as('dealer_admin').post('/x/thing').expect(200);
    expect(ran).toBe(1);
  });

  it('gives the OpenAPI document its x-roles', () => {
    const doc = buildOpenApiDocument('http://localhost:3000') as {
      paths: Record<string, Record<string, { 'x-roles': unknown }>>;
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const policy = ROUTE_POLICIES[`${method.toUpperCase()} /api/v1${path.replace(/\{(\w+)\}/g, ':$1')}`];
        expect(policy, `${method} ${path}`).toBeDefined();
        expect(op['x-roles'], `${method} ${path}`).toEqual(policy?.roles);
      }
    }
  });
});
