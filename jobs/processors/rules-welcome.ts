import { WelcomeRuleCache } from '../../src/domain/rules/engine/welcome-rule-cache.js';
import { sendWelcomeForAdd } from '../../src/domain/rules/welcome.js';
import type { WelcomeSender } from './welcome.processor.js';

/**
 * The campaign rules' welcome for the `wecom-welcome` processor:
 * `createWelcomeProcessor(createRulesWelcomeSender())`. Welcome rules come from a short-lived
 * per-process cache (WelcomeRuleCache) so a burst of adds does not query them once per add.
 */
export function createRulesWelcomeSender(cache = new WelcomeRuleCache()): WelcomeSender {
  const rules = (corpId: string, now: Date) => cache.activeWelcomeRules(corpId, now);
  return async ({ corp, api, job, ctx, log, deadline }) => {
    const result = await sendWelcomeForAdd({
      corp,
      api,
      clock: ctx.clock,
      logger: log,
      rules,
      deadline,
      event: { userid: job.userid, externalUserId: job.externalUserId, state: job.state, welcomeCode: job.welcomeCode },
    });
    return result.sent ? { sent: true, ruleId: result.ruleId } : { sent: false, reason: result.reason };
  };
}
