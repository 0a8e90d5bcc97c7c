import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import type { Principal } from '../../domain/auth/principal.js';
import { corpProfile } from '../../domain/corps/corp-queries.js';
import { assertAssetsInScope } from '../../domain/messages/media-scope.js';
import { corpIdSchema } from '../../domain/corps/corp.types.js';
import { requestDateRuleBackfill } from '../../domain/rules/engine/date-planner.js';
import { previewRule } from '../../domain/rules/preview.js';
import { monthStart, withMonthlyHits } from '../../domain/rules/rule-hits.js';
import { copyWarnings, emptyOptions, ruleOptionsForCorp, visibleDealerCorps } from '../../domain/rules/rule-options.js';
import { parseRuleOrThrow } from '../../domain/rules/rule-problems.js';
import { ruleBodySchema, ruleCreateSchema, type RuleBody } from '../../domain/rules/rule.schema.js';
import { RuleService } from '../../domain/rules/rule.service.js';
import { needsFourEyes, RuleApprovals } from '../../domain/rules/rule-approval.js';
import { parseStoredTaskSettings } from '../../domain/tasks/task-settings.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { ConflictError, NotFoundError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

const listQuery = z.object({
  scope: z.string().min(1).max(64).optional(),
  enabled: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});
const previewQuery = z.object({ corpId: z.string().min(1).max(64).optional() });
export const ruleOptionsQuery = z.object({ corpId: corpIdSchema.optional() });
export const ruleDuplicateSchema = z.object({ corpId: corpIdSchema }).strict();

/** Who may read rules, author them, and preview them (docs/architecture.md §5). */
export const RULE_READERS = ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] as const;
export const RULE_AUTHORS = ['admin', 'oem', 'marketing'] as const;

const isAuthor = (p: Principal) => (RULE_AUTHORS as readonly string[]).includes(p.role);

/** A corp-scoped rule must name an existing dealer corp. */
async function checkScopeCorp(body: Pick<RuleBody, 'scope'>): Promise<void> {
  if (body.scope === 'all') return;
  const corp = await corpProfile(body.scope);
  if (!corp)
    throw new ValidationError([{ path: 'scope', message: `no corp ${body.scope}; use all or an existing corp id` }]);
}

/**
 * `/api/v1/rules`: campaign rules. Writes are audited and versioned; reads and
 * writes are limited to all-corps rules plus the caller's corps; a rule of another corp is a 404.
 */
export function createRulesRouter(deps: ApiDeps): Router {
  const router = new Router();
  const rules = new RuleService(() => deps.clock.now());
  const approvals = new RuleApprovals(() => deps.clock.now());
  const audit = (
    ctx: Context,
    action: string,
    id: string,
    corpId: string,
    detail?: Record<string, string | number | boolean>,
  ) =>
    recordAudit({
      actor: principalOf(ctx),
      action,
      target: { type: 'rule', id, corpId: corpId === 'all' ? undefined : corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail,
      at: deps.clock.now(),
    });

  router.get('/rules', async function listRules(ctx) {
    const q = parseOrThrow(listQuery, ctx.query);
    const p = principalOf(ctx);
    ctx.body = {
      rules: await withMonthlyHits(
        p,
        await rules.list(p, q),
        monthStart(deps.clock.now(), deps.config.defaultTimezone),
      ),
    };
  });

  /**
   * What the console's rule form offers in its pickers: the dealer corps the caller sees (and may
   * author for), the date fields, and for one corp its tags, channel states and vehicle models.
   * Without `corpId`, a one-corp principal gets its corp; others get the corps only.
   */
  router.get('/rules/options', async function ruleOptions(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(ruleOptionsQuery, ctx.query);
    const corps = await visibleDealerCorps(p, isAuthor(p));
    const corpId = q.corpId ?? (p.corps !== '*' && p.corps.length === 1 ? p.corps[0] : undefined);
    if (!corpId) {
      ctx.body = emptyOptions(corps);
      return;
    }
    assertCorp(p, corpId, 'read');
    if (!corps.some((c) => c.corpId === corpId)) throw new NotFoundError(`no dealer corp ${corpId}`, 'corp_not_found');
    ctx.body = { ...emptyOptions(corps), corpId, ...(await ruleOptionsForCorp(corpId)) };
  });

  router.post('/rules', async function createRule(ctx) {
    const input = parseRuleOrThrow(ruleCreateSchema, bodyOf(ctx));
    await checkScopeCorp(input);
    await assertAssetsInScope(input);
    const p = principalOf(ctx);
    // An all-corps rule starts disabled: `enabled: true` is the author's proposal, a second person approves.
    const fourEyes = input.enabled && needsFourEyes(p, input);
    let rule = await rules.create(p, fourEyes ? { ...input, enabled: false } : input);
    await audit(ctx, 'rule.create', rule.id, rule.scope, { version: rule.version, enabled: rule.enabled });
    if (fourEyes) {
      await approvals.propose(p, rule);
      await audit(ctx, 'rule.enable_propose', rule.id, rule.scope, { version: rule.version });
      rule = await rules.get(p, rule.id);
    }
    if (rule.enabled && rule.body.trigger.type === 'date')
      await requestDateRuleBackfill(deps.queues, rule.id, rule.version);
    ctx.status = 201;
    ctx.body = rule;
  });

  router.post('/rules/preview', async function previewDraft(ctx) {
    const body = parseRuleOrThrow(ruleBodySchema, bodyOf(ctx));
    ctx.body = await preview(principalOf(ctx), body, parseOrThrow(previewQuery, ctx.query).corpId);
  });

  router.get('/rules/:id', async function getRule(ctx) {
    const p = principalOf(ctx);
    const rule = await rules.get(p, ctx.params.id ?? '');
    ctx.body = { ...rule, versions: await rules.history(p, rule.id) };
  });

  router.get('/rules/:id/versions', async function ruleVersions(ctx) {
    ctx.body = { versions: await rules.history(principalOf(ctx), ctx.params.id ?? '') };
  });

  /**
   * Copies a rule into another corp the caller may author for: a new disabled rule, version 1.
   * `warnings` list what the target corp does not know (tags, channel states, models ...).
   */
  router.post('/rules/:id/duplicate', async function duplicateRule(ctx) {
    const p = principalOf(ctx);
    const { corpId } = parseOrThrow(ruleDuplicateSchema, bodyOf(ctx));
    assertCorp(p, corpId, 'write');
    const target = await corpProfile(corpId);
    if (target?.kind !== 'dealer')
      throw new ValidationError([
        { path: 'corpId', message: `no dealer corp ${corpId}; pick one of your dealer corps` },
      ]);
    const rule = await rules.duplicate(p, ctx.params.id ?? '', corpId);
    await audit(ctx, 'rule.duplicate', rule.id, corpId, { version: rule.version, from: ctx.params.id ?? '' });
    ctx.status = 201;
    ctx.body = { rule, warnings: await copyWarnings(rule.body, corpId) };
  });

  router.put('/rules/:id', async function updateRule(ctx) {
    const body = parseRuleOrThrow(ruleBodySchema, bodyOf(ctx));
    await checkScopeCorp(body);
    await assertAssetsInScope(body);
    const ifMatch = ctx.get('If-Match').replace(/"/g, '');
    const expected = /^\d+$/.test(ifMatch) ? Number(ifMatch) : undefined;
    const p = principalOf(ctx);
    let rule = await rules.update(p, ctx.params.id ?? '', body, expected);
    await audit(ctx, 'rule.update', rule.id, rule.scope, { version: rule.version });
    if (rule.enabled && needsFourEyes(p, rule)) {
      // A new version of a live all-corps rule is not what was approved: it pauses until a second person approves it.
      await approvals.propose(p, rule);
      await audit(ctx, 'rule.enable_propose', rule.id, rule.scope, { version: rule.version });
      rule = await rules.get(p, rule.id);
    }
    if (rule.enabled && rule.body.trigger.type === 'date')
      await requestDateRuleBackfill(deps.queues, rule.id, rule.version);
    ctx.body = rule;
  });

  for (const [path, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    router.post(`/rules/:id/${path}`, async function switchRule(ctx) {
      const p = principalOf(ctx);
      const current = await rules.get(p, ctx.params.id ?? '');
      if (needsFourEyes(p, current)) {
        if (current.deleted) throw new ConflictError('the rule was deleted', 'rule_deleted');
        if (enabled) {
          const outcome = await approvals.requestEnable(p, current);
          const rule = await rules.get(p, current.id);
          if (outcome === 'proposed') {
            await audit(ctx, 'rule.enable_propose', rule.id, rule.scope, { version: rule.version });
            ctx.status = 202;
            ctx.body = rule;
            return;
          }
          if (outcome === 'approved') {
            await audit(ctx, 'rule.enable', rule.id, rule.scope, {
              version: rule.version,
              proposedBy: rule.enableApproval?.proposedBy ?? '',
              approvedBy: rule.enableApproval?.approvedBy ?? '',
            });
            if (rule.body.trigger.type === 'date') await requestDateRuleBackfill(deps.queues, rule.id, rule.version);
          }
          ctx.body = rule;
          return;
        }
        await approvals.withdraw(current);
      }
      const rule = await rules.setEnabled(p, ctx.params.id ?? '', enabled);
      const corpWide = rule.scope === 'all' && p.corps !== '*';
      await audit(ctx, `rule.${path}`, rule.id, corpWide ? (p.corps as readonly string[]).join(',') : rule.scope, {
        version: rule.version,
        forCorpsOnly: corpWide,
      });
      if (enabled && rule.body.trigger.type === 'date')
        await requestDateRuleBackfill(deps.queues, rule.id, rule.version);
      ctx.body = rule;
    });
  }

  router.delete('/rules/:id', async function deleteRule(ctx) {
    const p = principalOf(ctx);
    const rule = await rules.get(p, ctx.params.id ?? '');
    await rules.remove(p, rule.id);
    await audit(ctx, 'rule.delete', rule.id, rule.scope, { version: rule.version });
    ctx.status = 204;
  });

  router.post('/rules/:id/preview', async function previewStored(ctx) {
    const p = principalOf(ctx);
    const rule = await rules.get(p, ctx.params.id ?? '');
    ctx.body = await preview(p, rule.body, parseOrThrow(previewQuery, ctx.query).corpId, String(rule.id));
  });

  /** Preview in one corp: the rule's own, or `?corpId=` (required for all-corps rules). */
  async function preview(p: Principal, body: RuleBody, corpParam: string | undefined, ruleId?: string) {
    const corpId = body.scope === 'all' ? corpParam : body.scope;
    if (!corpId)
      throw new ValidationError([
        { path: 'corpId', message: 'an all-corps rule previews in one corp: add ?corpId=<corp id>' },
      ]);
    if (corpParam && corpParam !== corpId)
      throw new ValidationError([{ path: 'corpId', message: `the rule belongs to corp ${corpId}` }]);
    assertCorp(p, corpId, 'read');
    const corp = await corpProfile(corpId);
    if (!corp) throw new NotFoundError(`no corp ${corpId}`, 'corp_not_found');
    const { quietHours } = parseStoredTaskSettings(corp.tasks);
    return previewRule(body, {
      corpId,
      timeZone: corp.timezone ?? deps.config.defaultTimezone,
      quietHours,
      now: deps.clock.now(),
      pd: deps.pd,
      ruleId,
    });
  }
  return router;
}
