import Router from '@koa/router';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { ingestOutcomeItems, itemsOf } from '../../domain/outcomes/outcome-batch.js';
import { campaignReport } from '../../domain/outcomes/campaign-report.js';
import { OUTCOME_TYPES } from '../../domain/outcomes/outcome-input.js';
import { listUnmatchedOutcomes } from '../../domain/outcomes/outcome-queries.js';
import {
  combineOutcomeKpis,
  outcomeKpis,
  scopeAdvisors,
  unreachableOwners,
  type OutcomeKpis,
} from '../../domain/outcomes/outcome-kpis.js';
import { resolveScope } from './kpis.routes.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';
import { requireDealerCorp } from '../../domain/corps/corp-queries.js';

export const OUTCOME_WRITERS = ['admin', 'dealer_admin', 'integration'] as const;
export const OUTCOME_READERS = ['admin', 'oem', 'analyst', 'dealer_admin', 'manager'] as const;

const unmatchedQuery = z.object({
  corpId: z.string().min(1).max(64),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.iso
    .datetime({ offset: true, error: 'use an ISO date-time (the occurredAt of the last item of the previous page)' })
    .optional(),
});

/** The options of a holdout report (a rule's or a broadcast's): the outcome window and types. */
export const reportOptionsQuery = z.object({
  windowDays: z.coerce.number({ error: 'windowDays must be a number of days' }).int().min(1).max(365).optional(),
  types: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((t) => t.trim()) : undefined))
    .pipe(
      z.array(z.enum(OUTCOME_TYPES, { error: `types: comma-separated, of ${OUTCOME_TYPES.join(', ')}` })).optional(),
    ),
});
const reportQuery = reportOptionsQuery.extend({ corpId: z.string().min(1).max(64) });
const isoDate = z.iso.datetime({ offset: true, error: 'use an ISO date-time like 2026-06-01T00:00:00+08:00' });
const kpiQuery = z
  .object({
    corpId: z.string().min(1).max(64).optional(),
    advisor: z.string().min(1).max(64).optional(),
    department: z.coerce.number({ error: 'department must be a department id (a number)' }).int().min(0).optional(),
    from: isoDate,
    to: isoDate,
    by: z.enum(['rule', 'advisor'], { error: 'by must be rule or advisor' }).default('rule'),
  })
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), { error: 'from must be before to', path: ['to'] });
const corpQuery = z.object({
  corpId: z.string().min(1).max(64),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
const objectId = z.string().regex(/^[a-f0-9]{24}$/, { error: 'is not a rule id' });

/**
 * `POST /api/v1/outcomes`: one outcome (`{ corpId, externalId, version, type, ... }`) or a batch
 * (`{ corpId, outcomes: [...] }`, up to 1,000), answered per item (docs/outcomes.md). 200 when at
 * least one item was accepted, 422 when none was. `GET /api/v1/outcomes/unmatched`: outcomes
 * whose owner the bot does not know (a finding, not an error).
 */
export function createOutcomesRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.post('/outcomes', async function postOutcomes(ctx) {
    const body = bodyOf(ctx);
    const corpId = (body as { corpId?: unknown } | undefined)?.corpId;
    if (typeof corpId === 'string') assertCorp(principalOf(ctx), corpId);
    const corp = await requireDealerCorp(corpId, deps.config.defaultTimezone);
    const { corpId: _omit, ...rest } = body as Record<string, unknown>;
    const split = itemsOf(rest);
    if ('problems' in split) throw new ValidationError(split.problems);
    const answer = await ingestOutcomeItems(
      { ...corp, pd: deps.pd, queues: deps.queues, now: () => deps.clock.now() },
      split.items,
      'api',
    );
    if (answer.summary.rejected === answer.results.length) {
      throw new ValidationError(
        answer.results.flatMap((r) => (r.status === 'rejected' ? r.problems : [])),
        'no outcome was accepted',
      );
    }
    await recordAudit({
      actor: principalOf(ctx),
      action: 'outcome.upsert',
      target: { type: 'outcomes', corpId: corp.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: answer.summary,
      at: deps.clock.now(),
    });
    ctx.body = answer;
  });
  router.get('/outcomes/unmatched', async function unmatchedOutcomes(ctx) {
    const q = parseOrThrow(unmatchedQuery, ctx.query);
    assertCorp(principalOf(ctx), q.corpId, 'read');
    ctx.body = await listUnmatchedOutcomes(q.corpId, q.limit, q.before ? new Date(q.before) : undefined);
  });
  router.get('/kpis/outcomes', async function outcomeKpisRoute(ctx) {
    const q = parseOrThrow(kpiQuery, ctx.query);
    const p = principalOf(ctx);
    const scope = await resolveScope(p, q);
    const from = new Date(q.from);
    const to = new Date(q.to);
    const perDealer = [];
    for (const corpId of scope.corpIds) {
      const advisors = await scopeAdvisors(corpId, scope);
      perDealer.push(await outcomeKpis(corpId, from, to, q.by, { advisors }));
    }
    // A car maker without a dealer named: the sum of its dealers, with a row per dealer.
    ctx.body =
      q.corpId === undefined && p.corps === '*'
        ? combineOutcomeKpis(perDealer, from, to, q.by)
        : (perDealer[0] as OutcomeKpis);
  });
  router.get('/outcomes/unreachable-owners', async function unreachableOwnersRoute(ctx) {
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(principalOf(ctx), q.corpId, 'read');
    ctx.body = await unreachableOwners(q.corpId, q.limit);
  });
  router.get('/campaigns/:ruleId/report', async function campaignReportRoute(ctx) {
    const q = parseOrThrow(reportQuery, ctx.query);
    const ruleId = parseOrThrow(objectId, ctx.params.ruleId, '/ruleId');
    assertCorp(principalOf(ctx), q.corpId, 'read');
    ctx.body = await campaignReport(q.corpId, ruleId, { windowDays: q.windowDays, types: q.types });
  });
  return router;
}
