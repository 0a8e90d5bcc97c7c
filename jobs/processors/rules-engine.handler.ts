import { handleDomainEvent } from '../../src/domain/rules/engine/engine.js';
import { toJobError } from '../../src/wecom/job-errors.js';
import type { DomainEventHandler } from './domain-event-handlers.js';
import { engineDepsFor } from './rules-engine-deps.js';

/**
 * The campaign rules engine as a domain-event consumer: cancels, re-homes and
 * re-plans schedules, then runs matching rules once per occurrence. WeCom failures map to
 * retry / UnrecoverableError; the execution records make the retry finish only what is open.
 */
export const rulesEngineHandler: DomainEventHandler = {
  name: 'rules-engine',
  async handle(event, ctx, log) {
    const deps = engineDepsFor(ctx, event.corpId, log);
    if (!deps) return;
    try {
      const outcomes = await handleDomainEvent(deps, event);
      const ran = outcomes.filter((o) => o.outcome === 'ran');
      if (ran.length) log.info({ corpId: event.corpId, customerId: event.customerId, type: event.type, rules: ran.map((o) => o.ruleId) }, 'rules ran');
    } catch (err) {
      throw toJobError(err);
    }
  },
};
