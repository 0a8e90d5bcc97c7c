import Router from '@koa/router';
import { ingestOutcomeItems, itemsOf } from '../../domain/outcomes/outcome-batch.js';
import { WebhookSecrets } from '../../domain/webhooks/webhook-secret.service.js';
import { ValidationError } from '../../infra/errors.js';
import type { ApiDeps } from '../api/api-deps.js';
import { requireDealerCorp } from '../../domain/corps/corp-queries.js';
import { ROUTE_POLICIES } from '../policy/route-policies.js';
import { applyRoutePolicies } from '../policy/route-policy.js';
import { createSignedWebhook } from './signed-webhook.js';

/**
 * `/webhooks`: pushes from systems outside WeCom, authenticated by their Standard Webhooks
 * signature with a per-corp, per-source secret (docs/outcomes.md). `POST /webhooks/dms/:corpId`
 * takes DMS outcomes, one or a batch `{ outcomes: [...] }`, answered per item like the API.
 */
export function createWebhooksRouter(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/webhooks' });
  const secrets = new WebhookSecrets(deps.pd.cipher, () => deps.clock.now());
  const common = { secrets, redis: deps.redis, keyPrefix: deps.config.redis.queuePrefix, nowMs: () => deps.clock.nowMs() };
  router.post('/dms/:corpId', createSignedWebhook({ ...common, source: 'dms' }, async (ctx, corpId, body) => {
    const corp = await requireDealerCorp(corpId, deps.config.defaultTimezone);
    const split = itemsOf(body);
    if ('problems' in split) throw new ValidationError(split.problems);
    const answer = await ingestOutcomeItems({ ...corp, pd: deps.pd, queues: deps.queues, now: () => deps.clock.now() }, split.items, 'webhook');
    if (answer.summary.rejected === answer.results.length) {
      throw new ValidationError(answer.results.flatMap((r) => (r.status === 'rejected' ? r.problems : [])), 'no outcome was accepted');
    }
    ctx.body = answer;
  }));
  applyRoutePolicies(router, ROUTE_POLICIES, '/webhooks/');
  return router;
}
