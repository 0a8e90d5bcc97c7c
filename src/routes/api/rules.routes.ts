import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import type { Principal } from '../../domain/auth/principal.js';
import { CorpModel } from '../../domain/corps/corp.model.js';
import { requestDateRuleBackfill } from '../../domain/rules/engine/date-planner.js';
import { previewRule } from '../../domain/rules/preview.js';
import { parseRuleOrThrow } from '../../domain/rules/rule-problems.js';
import { ruleBodySchema, ruleCreateSchema, type RuleBody } from '../../domain/rules/rule.schema.js';
import { RuleService } from '../../domain/rules/rule.service.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp, requireRoles } from '../../middlewares/authorize.js';
import { NotFoundError, ValidationError } from '../../middlewares/errors.js';
import { parseOrThrow } from '../../middlewares/validate.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

const listQuery = z.object({
  scope: z.string().min(1).max(64).optional(),
  enabled: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});
const previewQuery = z.object({ corpId: z.string().min(1).max(64).optional() });

/** Who may read rules, author them, and preview them (design §5). */
export const RULE_READERS = ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] as const;
export const RULE_AUTHORS = ['admin', 'oem', 'marketing'] as const;

/** A corp-scoped rule must name an existing dealer corp. */
async function checkScopeCorp(body: Pick<RuleBody, 'scope'>): Promise<void> {
  if (body.scope === 'all') return;
  const corp = await CorpModel.findOne({ corpId: body.scope }, { kind: 1 }).lean();
  if (!corp) throw new ValidationError([{ path: 'scope', message: `no corp ${body.scope}; use all or an existing corp id` }]);
}

/**
 * `/api/v1/rules`: campaign rules (issue 7). Writes are audited and versioned; reads and
 * writes are limited to all-corps rules plus the caller's corps; a rule of another corp is a 404.
 */
export function createRulesRouter(deps: ApiDeps): Router {
  const router = new Router();
  const rules = new RuleService(() => deps.clock.now());
  const audit = (ctx: Context, action: string, id: string, corpId: string, detail?: Record<string, string | number | boolean>) =>
    recordAudit({ actor: principalOf(ctx), action, target: { type: 'rule', id, corpId: corpId === 'all' ? undefined : corpId }, requestId: ctx.state.reqId as string | undefined, detail, at: deps.clock.now() });

  router.get('/rules', requireRoles(...RULE_READERS), async function listRules(ctx) {
    const q = parseOrThrow(listQuery, ctx.query);
    ctx.body = { rules: await rules.list(principalOf(ctx), q) };
  });

  router.post('/rules', requireRoles(...RULE_AUTHORS), async function createRule(ctx) {
    const input = parseRuleOrThrow(ruleCreateSchema, bodyOf(ctx));
    await checkScopeCorp(input);
    const rule = await rules.create(principalOf(ctx), input);
    await audit(ctx, 'rule.create', rule.id, rule.scope, { version: rule.version, enabled: rule.enabled });
    if (rule.enabled && rule.body.trigger.type === 'date') await requestDateRuleBackfill(deps.queues, rule.id, rule.version);
    ctx.status = 201;
    ctx.body = rule;
  });

  router.post('/rules/preview', requireRoles(...RULE_AUTHORS), async function previewDraft(ctx) {
    const body = parseRuleOrThrow(ruleBodySchema, bodyOf(ctx));
    ctx.body = await preview(principalOf(ctx), body, parseOrThrow(previewQuery, ctx.query).corpId);
  });

  router.get('/rules/:id', requireRoles(...RULE_READERS), async function getRule(ctx) {
    const p = principalOf(ctx);
    const rule = await rules.get(p, ctx.params.id ?? '');
    ctx.body = { ...rule, versions: await rules.history(p, rule.id) };
  });

  router.put('/rules/:id', requireRoles(...RULE_AUTHORS), async function updateRule(ctx) {
    const body = parseRuleOrThrow(ruleBodySchema, bodyOf(ctx));
    await checkScopeCorp(body);
    const ifMatch = ctx.get('If-Match').replace(/"/g, '');
    const expected = /^\d+$/.test(ifMatch) ? Number(ifMatch) : undefined;
    const rule = await rules.update(principalOf(ctx), ctx.params.id ?? '', body, expected);
    await audit(ctx, 'rule.update', rule.id, rule.scope, { version: rule.version });
    if (rule.enabled && rule.body.trigger.type === 'date') await requestDateRuleBackfill(deps.queues, rule.id, rule.version);
    ctx.body = rule;
  });

  for (const [path, enabled] of [['enable', true], ['disable', false]] as const) {
    router.post(`/rules/:id/${path}`, requireRoles(...RULE_AUTHORS, 'dealer_admin'), async function switchRule(ctx) {
      const p = principalOf(ctx);
      const rule = await rules.setEnabled(p, ctx.params.id ?? '', enabled);
      const corpWide = rule.scope === 'all' && p.corps !== '*';
      await audit(ctx, `rule.${path}`, rule.id, corpWide ? (p.corps as readonly string[]).join(',') : rule.scope, { version: rule.version, forCorpsOnly: corpWide });
      if (enabled && rule.body.trigger.type === 'date') await requestDateRuleBackfill(deps.queues, rule.id, rule.version);
      ctx.body = rule;
    });
  }

  router.delete('/rules/:id', requireRoles(...RULE_AUTHORS), async function deleteRule(ctx) {
    const p = principalOf(ctx);
    const rule = await rules.get(p, ctx.params.id ?? '');
    await rules.remove(p, rule.id);
    await audit(ctx, 'rule.delete', rule.id, rule.scope, { version: rule.version });
    ctx.status = 204;
  });

  router.post('/rules/:id/preview', requireRoles(...RULE_AUTHORS), async function previewStored(ctx) {
    const p = principalOf(ctx);
    const rule = await rules.get(p, ctx.params.id ?? '');
    ctx.body = await preview(p, rule.body, parseOrThrow(previewQuery, ctx.query).corpId);
  });

  /** Preview in one corp: the rule's own, or `?corpId=` (required for all-corps rules). */
  async function preview(p: Principal, body: RuleBody, corpParam: string | undefined) {
    const corpId = body.scope === 'all' ? corpParam : body.scope;
    if (!corpId) throw new ValidationError([{ path: 'corpId', message: 'an all-corps rule previews in one corp: add ?corpId=<corp id>' }]);
    if (corpParam && corpParam !== corpId) throw new ValidationError([{ path: 'corpId', message: `the rule belongs to corp ${corpId}` }]);
    assertCorp(p, corpId, 'read');
    const corp = await CorpModel.findOne({ corpId }, { timezone: 1 }).lean();
    if (!corp) throw new NotFoundError(`no corp ${corpId}`, 'corp_not_found');
    return previewRule(body, { corpId, timeZone: corp.timezone ?? deps.config.defaultTimezone, now: deps.clock.now(), pd: deps.pd });
  }
  return router;
}
