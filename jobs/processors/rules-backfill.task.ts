import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import { customersWithAnchor, planDateRulesForCustomer, RULES_BACKFILL_TASK } from '../../src/domain/rules/engine/date-planner.js';
import { findLiveRule } from '../../src/domain/rules/engine/rule-finder.js';
import type { Logger } from '../../src/infra/logger.js';
import type { WorkerContext } from '../context.js';

export { RULES_BACKFILL_TASK };
const dataSchema = z.object({ ruleId: z.string().min(1) });

/**
 * Plans a `date` rule for existing customers when it is created, changed or enabled (the API
 * enqueues this on `maintenance`): every dealer corp in its scope, customers with the anchor,
 * in pages. Planning is idempotent, so a retry or a second run changes nothing.
 */
export async function backfillDateRule(job: Job, log: Logger, ctx: WorkerContext): Promise<{ customers: number; planned: number }> {
  const data = dataSchema.safeParse(job.data);
  if (!data.success) throw new UnrecoverableError('rules-backfill needs { ruleId }');
  let customers = 0;
  let planned = 0;
  for (const corp of ctx.corps ? allCorps(ctx) : []) {
    if (corp.kind === 'oem' || !corp.enabled) continue;
    const rule = await findLiveRule(corp.corpId, data.data.ruleId, ctx.clock.now());
    if (!rule || rule.body.trigger.type !== 'date') continue;
    const deps = { corpId: corp.corpId, timeZone: corp.timezone || ctx.config.defaultTimezone, clock: ctx.clock, pd: ctx.pd };
    let after: string | undefined;
    for (;;) {
      const page = await customersWithAnchor(corp.corpId, rule.body.trigger.field, after);
      if (page.length === 0) break;
      for (const id of page) planned += await planDateRulesForCustomer(deps, id, { rules: [rule] });
      customers += page.length;
      after = page[page.length - 1];
    }
  }
  log.info({ ruleId: data.data.ruleId, customers, planned }, 'date rule backfilled');
  return { customers, planned };
}

function allCorps(ctx: WorkerContext) {
  const source = ctx.corps as { all?: () => Array<{ corpId: string; kind: string; enabled: boolean; timezone: string }> } | undefined;
  return source?.all?.() ?? [];
}
