import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { SESSION_COOKIE } from '../../domain/auth/console-session.js';
import { TokenService } from '../../domain/auth/token.service.js';
import { createAuth } from '../../middlewares/auth.js';
import { AppError, BadRequestError } from '../../infra/errors.js';
import { createAuthFailureLimit, createClientRateLimit, createRateLimit } from '../../middlewares/rate-limit.js';
import type { ApiDeps } from './api-deps.js';
import { createBroadcastsRouter } from './broadcasts.routes.js';
import { createChannelsRouter } from './channels.routes.js';
import { createLeadsRouter } from './leads.routes.js';
import { createAuditRouter } from './audit.routes.js';
import { createContentRouter } from './content.routes.js';
import { createSegmentsRouter } from './segments.routes.js';
import { createCorpsRouter } from './corps.routes.js';
import { createCorpSettingsRouter } from './corp-settings.routes.js';
import { createTokensRouter } from './tokens.routes.js';
import { createCustomersRouter } from './customers.routes.js';
import { createGroupsRouter } from './groups.routes.js';
import { createKpisRouter } from './kpis.routes.js';
import { buildOpenApiDocument } from './openapi.js';
import { createMediaRouter } from './media.routes.js';
import { createMomentsRouter } from './moments.routes.js';
import { createOpsApiRouter } from './ops-api.routes.js';
import { createOutcomesRouter } from './outcomes.routes.js';
import { createPrivacyRouter } from './privacy.routes.js';
import { createRulesRouter } from './rules.routes.js';
import { createSidebarRouter } from './sidebar.routes.js';
import { createTasksRouter } from './tasks.routes.js';
import { createTransfersRouter } from './transfers.routes.js';
import { createVehiclesRouter } from './vehicles.routes.js';
import { ROUTE_POLICIES } from '../policy/route-policies.js';
import { applyRoutePolicies } from '../policy/route-policy.js';

/**
 * `/api/v1`: the admin API. `openapi.json` is public (no data); everything else needs a bearer
 * token resolved to a principal (docs/architecture.md §5), is rate limited per token, and parses JSON bodies
 * up to 2 MB (a batch of 1,000 vehicles fits). Each route's roles come from the policy table
 * (src/routes/policy/route-policies.ts).
 */
export function createApiRouter(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const openapi = buildOpenApiDocument(deps.config.publicBaseUrl);
  const limits = { redis: deps.redis, prefix: deps.config.redis.queuePrefix, nowMs: () => deps.clock.nowMs() };
  router.get(
    '/openapi.json',
    createClientRateLimit({ ...limits, bucket: 'openapi', limit: deps.config.api.publicRateLimitPerMinute }),
    function openapiDocument(ctx) {
      ctx.body = openapi;
    },
  );
  const tokens = new TokenService(() => deps.clock.now());
  router.use(
    createAuthFailureLimit({
      ...limits,
      bucket: 'auth-failures',
      limit: deps.config.api.authFailuresPerMinute,
      hasCredential: (ctx) => Boolean(ctx.get('Authorization') || ctx.cookies.get(SESSION_COOKIE)),
    }),
  );
  router.use(
    createAuth({
      resolve: (t) => tokens.resolve(t),
      bootstrapToken: deps.config.bootstrapApiToken,
      sessions: deps.sessions,
    }),
  );
  router.use(
    createRateLimit({
      redis: deps.redis,
      prefix: deps.config.redis.queuePrefix,
      limit: deps.config.api.rateLimitPerMinute,
      nowMs: () => deps.clock.nowMs(),
    }),
  );
  router.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: '2mb',
      onError: (err) => {
        if ((err as Error & { status?: number }).status === 413)
          throw new AppError(413, 'payload_too_large', 'the body is larger than 2 MB; send fewer items per request');
        throw new BadRequestError(`the body is not valid JSON (${err.message})`, 'invalid_json');
      },
    }),
  );
  const children = [
    createVehiclesRouter(deps),
    createCustomersRouter(deps),
    createPrivacyRouter(deps),
    createRulesRouter(deps),
    createCorpsRouter(deps),
    createCorpSettingsRouter(deps),
    createTokensRouter(deps),
    createAuditRouter(),
    createOpsApiRouter(deps),
    createMediaRouter(deps),
    createTasksRouter(deps),
    createTransfersRouter(deps),
    createKpisRouter(deps),
    createOutcomesRouter(deps),
    createSidebarRouter(deps),
    createContentRouter(deps),
    createGroupsRouter(deps),
    createChannelsRouter(deps),
    createLeadsRouter(deps),
    createBroadcastsRouter(deps),
    createSegmentsRouter(deps),
    createMomentsRouter(deps),
  ];
  for (const child of children) router.use(child.routes(), child.allowedMethods());
  // Authorization comes from the policy table; a route without an entry stops the start here.
  applyRoutePolicies(router, ROUTE_POLICIES, '/api/v1/');
  return router;
}
