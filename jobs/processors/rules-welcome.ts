import { sendWelcomeForAdd } from '../../src/domain/rules/welcome.js';
import type { WelcomeSender } from './welcome.processor.js';

/**
 * The campaign rules' welcome for the `wecom-welcome` processor:
 * `createWelcomeProcessor(rulesWelcomeSender)`.
 */
export const rulesWelcomeSender: WelcomeSender = async ({ corp, api, job, ctx, log }) => {
  const result = await sendWelcomeForAdd({
    corp, api, clock: ctx.clock, logger: log,
    event: { userid: job.userid, externalUserId: job.externalUserId, state: job.state, welcomeCode: job.welcomeCode },
  });
  return result.sent ? { sent: true, ruleId: result.ruleId } : { sent: false, reason: result.reason };
};
