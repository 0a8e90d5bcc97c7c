import { flushBatch, pollBatch } from '../../src/domain/messages/message.service.js';
import { fireRuleActionSchedule, handleDomainEvent } from '../../src/domain/rules/engine/engine.js';
import { customersWithAnchor, planDateRulesForCustomer } from '../../src/domain/rules/engine/date-planner.js';
import { findLiveRule } from '../../src/domain/rules/engine/rule-finder.js';
import { runSweepExclusive } from '../../src/domain/schedules/sweep.js';
import type { Logger } from '../../src/infra/logger.js';
import { messageBatchJob, messagePollJob } from '../../src/queues/jobs/messages.jobs.js';
import { rulesBackfillJob } from '../../src/queues/jobs/rules.jobs.js';
import { ruleActionJob, scheduleSweepJob } from '../../src/queues/jobs/schedules.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { isSkipped, jobScope, scopeFor } from '../scope.js';
import type { DomainEventHandler } from './domain-events.processor.js';

/**
 * The campaign rules' jobs (docs/architecture.md §5–6): the minute sweep of due schedules, a fired
 * `rule_action` schedule, customer message batches and their result polls, a date rule's backfill.
 */
export function rulesJobs(ctx: WorkerContext): JobEntry[] {
  const engine = (corpId: string, log: Logger) => {
    const scope = jobScope(ctx, corpId, log);
    return isSkipped(scope) ? scope : scope.engine();
  };
  return [
    on(scheduleSweepJob, (_data, _job, log) =>
      runSweepExclusive(ctx.redis, ctx.config.redis.queuePrefix, { queues: ctx.queues, now: ctx.clock.now(), log }),
    ),
    on(ruleActionJob, async ({ corpId, scheduleId }, _job, log) => {
      const deps = engine(corpId, log);
      return 'skipped' in deps ? deps : { outcome: await fireRuleActionSchedule(deps, scheduleId) };
    }),
    on(messageBatchJob, async ({ corpId, batchId }, _job, log) => {
      const deps = engine(corpId, log);
      return 'skipped' in deps ? deps : flushBatch(deps, batchId);
    }),
    on(messagePollJob, async ({ corpId, batchId, attempt }, job, log) => {
      const deps = engine(corpId, log);
      // Polls enqueued before `attempt` was in the payload carry it only in their id.
      const n = attempt ?? Number(/-(\d+)$/.exec(job.id ?? '')?.[1] ?? 1);
      return 'skipped' in deps ? deps : pollBatch(deps, batchId, n);
    }),
    on(rulesBackfillJob, ({ ruleId }, _job, log) => backfillDateRule(ctx, ruleId, log)),
  ];
}

/**
 * Plans a `date` rule for existing customers when it is created, changed or enabled: every dealer
 * corp in its scope, customers with the anchor, in pages. Planning is idempotent, so a retry or a
 * second run changes nothing.
 */
async function backfillDateRule(
  ctx: WorkerContext,
  ruleId: string,
  log: Logger,
): Promise<{ customers: number; planned: number }> {
  let customers = 0;
  let planned = 0;
  const corps = (ctx.corps as { all?: () => Array<{ corpId: string }> } | undefined)?.all?.() ?? [];
  for (const { corpId } of corps) {
    const found = scopeFor(ctx, corpId, log);
    if (!found.ok) continue;
    const scope = found.scope;
    const rule = await findLiveRule(corpId, ruleId, ctx.clock.now());
    if (!rule || rule.body.trigger.type !== 'date') continue;
    const deps = { corpId, timeZone: scope.timeZone, clock: ctx.clock, pd: ctx.pd };
    let after: string | undefined;
    for (;;) {
      const page = await customersWithAnchor(corpId, rule.body.trigger.field, after);
      if (page.length === 0) break;
      for (const id of page) planned += await planDateRulesForCustomer(deps, id, { rules: [rule] });
      customers += page.length;
      after = page[page.length - 1];
    }
  }
  log.info({ ruleId, customers, planned }, 'date rule backfilled');
  return { customers, planned };
}

/**
 * The campaign rules engine as a domain-event consumer: cancels, re-homes and re-plans
 * schedules, then runs matching rules once per occurrence. The execution records make a retry
 * finish only what is open.
 */
export const rulesEngineEventHandler: DomainEventHandler = {
  name: 'rules-engine',
  async handle(event, scope, log) {
    const outcomes = await handleDomainEvent(scope.engine(log), event);
    const ran = outcomes.filter((o) => o.outcome === 'ran');
    if (ran.length)
      log.info(
        { corpId: event.corpId, customerId: event.customerId, type: event.type, rules: ran.map((o) => o.ruleId) },
        'rules ran',
      );
  },
};
