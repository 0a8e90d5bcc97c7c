import Router from '@koa/router';
import { ingestOutcomeItems, itemsOf } from '../../domain/outcomes/outcome-batch.js';
import { WebhookSecrets } from '../../domain/webhooks/webhook-secret.service.js';
import { ValidationError, type FieldProblem } from '../../infra/errors.js';
import { ingestLeads, leadIntakeDepsFor, summarizeLeadResults } from '../../domain/acquisition/lead-intake.js';
import type { ApiDeps } from '../api/api-deps.js';
import { requireDealerCorp } from '../../domain/corps/corp-queries.js';
import { ROUTE_POLICIES } from '../policy/route-policies.js';
import { applyRoutePolicies } from '../policy/route-policy.js';
import { createSignedWebhook } from './signed-webhook.js';

const MAX_LEADS_PER_DELIVERY = 1000;

/** A platform's push: one lead object, or `{ leads: [...] }` of up to 1,000 (the corp is the path's). */
function leadItemsOf(body: unknown): { items: unknown[]; batch: boolean } | { problems: FieldProblem[] } {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return { problems: [{ path: '/', message: 'send a JSON object: one lead, or { leads: [...] }' }] };
  if (!('leads' in body)) return { items: [body], batch: false };
  const leads = (body as { leads: unknown }).leads;
  if (!Array.isArray(leads) || leads.length === 0)
    return { problems: [{ path: '/leads', message: 'leads must be a non-empty array' }] };
  if (leads.length > MAX_LEADS_PER_DELIVERY)
    return {
      problems: [{ path: '/leads', message: `at most ${MAX_LEADS_PER_DELIVERY} leads per delivery; split the batch` }],
    };
  return { items: leads, batch: true };
}

/**
 * `/webhooks`: pushes from systems outside WeCom, authenticated by their Standard Webhooks
 * signature with a per-corp, per-source secret (docs/outcomes.md). `POST /webhooks/dms/:corpId`
 * takes DMS outcomes, one or a batch `{ outcomes: [...] }`, answered per item like the API;
 * `POST /webhooks/leads/:corpId` takes leads from platforms that push (docs/acquisition.md), through
 * the same intake as `POST /api/v1/leads`.
 */
export function createWebhooksRouter(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/webhooks' });
  const secrets = new WebhookSecrets(deps.pd.cipher, () => deps.clock.now());
  const common = {
    secrets,
    redis: deps.redis,
    keyPrefix: deps.config.redis.queuePrefix,
    nowMs: () => deps.clock.nowMs(),
  };
  router.post(
    '/dms/:corpId',
    createSignedWebhook({ ...common, source: 'dms' }, async (ctx, corpId, body) => {
      const corp = await requireDealerCorp(corpId, deps.config.defaultTimezone);
      const split = itemsOf(body);
      if ('problems' in split) throw new ValidationError(split.problems);
      const answer = await ingestOutcomeItems(
        { ...corp, pd: deps.pd, queues: deps.queues, now: () => deps.clock.now() },
        split.items,
        'webhook',
      );
      if (answer.summary.rejected === answer.results.length) {
        throw new ValidationError(
          answer.results.flatMap((r) => (r.status === 'rejected' ? r.problems : [])),
          'no outcome was accepted',
        );
      }
      ctx.body = answer;
    }),
  );
  router.post(
    '/leads/:corpId',
    createSignedWebhook({ ...common, source: 'leads' }, async (ctx, corpId, body) => {
      const corp = await requireDealerCorp(corpId, deps.config.defaultTimezone);
      const split = leadItemsOf(body);
      if ('problems' in split) throw new ValidationError(split.problems);
      const intake = await leadIntakeDepsFor(
        { pd: deps.pd, queues: deps.queues, clock: deps.clock, defaultTimezone: deps.config.defaultTimezone },
        corp.corpId,
      );
      const results = await ingestLeads(intake, corp.corpId, split.items, {
        actor: 'webhook:leads',
        pointer: (i) => (split.batch ? `/leads/${i}` : ''),
      });
      const summary = summarizeLeadResults(results);
      if (summary.rejected === results.length)
        throw new ValidationError(
          results.flatMap((r) => (r.status === 'rejected' ? r.problems : [])),
          'no lead was accepted',
        );
      ctx.body = { summary, results };
    }),
  );
  applyRoutePolicies(router, ROUTE_POLICIES, '/webhooks/');
  return router;
}
