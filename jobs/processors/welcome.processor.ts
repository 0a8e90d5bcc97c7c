import type { Job } from 'bullmq';
import type { Corp } from '../../src/domain/corps/corp.types.js';
import type { WelcomeDeadline } from '../../src/domain/rules/welcome.js';
import type { Logger } from '../../src/infra/logger.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { welcomeJob, type WelcomeJob } from '../../src/queues/jobs/welcome.jobs.js';
import type { CorpApi } from '../../src/wecom/corp-api.js';
import { classifyJobFailure } from '../../src/wecom/job-errors.js';
import type { WorkerContext } from '../context.js';
import { jobMap, on, type ProcessorFactory } from '../processor.js';
import { isSkipped, jobScope } from '../scope.js';
import { noteMissedWelcome, WELCOME_LANE_TIMING, WELCOME_WINDOW_MS, welcomeWorkerOptions } from './welcome-deadline.js';

export { WELCOME_WINDOW_MS };

export type WelcomeOutcome = { sent: true; ruleId?: string } | { sent: false; reason: string };

/** Picks and sends the welcome for one add (the campaign rules' welcome, jobs/registry.ts); `deadline` bounds its reads and its send. */
export type WelcomeSender = (input: {
  corp: Corp;
  api: CorpApi;
  job: WelcomeJob;
  ctx: WorkerContext;
  log: Logger;
  deadline: WelcomeDeadline;
}) => Promise<WelcomeOutcome>;

/** The sender when no welcome is wired (tests of the lane itself): records that the job ran and sends nothing. */
export const recordOnlyWelcome: WelcomeSender = async ({ log, job }) => {
  log.info({ corpId: job.corpId, userid: job.userid }, 'welcome job ran; no welcome rules configured');
  return { sent: false, reason: 'no_rule' };
};

/**
 * `wecom-welcome` (docs/architecture.md §4, priority lane): the job was enqueued straight from the add
 * callback. The lane has a deadline (docs/reliability.md, "Welcome deadline"): short locks so a
 * crashed worker's jobs run again within seconds; a code too old to reach WeCom in time is not
 * tried (41050 would follow), neither at the start nor right before the call; MongoDB reads
 * have a time budget; every missed welcome is counted (`scrm_welcomes_missed_total`) and a run
 * of them is an operator alert. The code's age counts from the event's CreateTime (WeCom's
 * clock, whole seconds, so at most 1 s early: on the safe side). The worker runner classifies
 * failures (retry, unrecoverable, rate-limited); a welcome of a car-maker or disabled corp is
 * not sent (`reason` says which).
 */
export function createWelcomeProcessor(send: WelcomeSender = recordOnlyWelcome): ProcessorFactory {
  return (ctx: WorkerContext) => {
    const missed = { registry: ctx.metrics?.registry, alerts: ctx.alerts };
    return {
      queue: QueueName.wecomWelcome,
      concurrency: 32,
      options: welcomeWorkerOptions,
      gatherMs: WELCOME_LANE_TIMING.gatherMs,
      handlers: jobMap(QueueName.wecomWelcome, [
        on(welcomeJob, async (data: WelcomeJob, job: Job, log: Logger): Promise<WelcomeOutcome> => {
          const sendByMs = data.eventTime * 1000 + WELCOME_WINDOW_MS - WELCOME_LANE_TIMING.sendMarginMs;
          if (ctx.clock.nowMs() > sendByMs) {
            log.warn(
              { corpId: data.corpId, ageMs: ctx.clock.nowMs() - data.eventTime * 1000 },
              'welcome code expired before it could be used',
            );
            noteMissedWelcome(missed, data.corpId, 'expired');
            return { sent: false, reason: 'expired' };
          }
          const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          try {
            const scope = jobScope(ctx, data.corpId, log);
            if (isSkipped(scope)) return { sent: false, reason: scope.skipped };
            const outcome = await send({
              corp: scope.corp,
              api: scope.api,
              job: data,
              ctx,
              log,
              deadline: { sendByMs, readBudgetMs: WELCOME_LANE_TIMING.readBudgetMs },
            });
            if (!outcome.sent && outcome.reason === 'deadline') noteMissedWelcome(missed, data.corpId, 'deadline');
            return outcome;
          } catch (err) {
            // The runner classifies the failure; a welcome that will not be tried again is missed.
            const failure = classifyJobFailure(err);
            if (failure.kind === 'permanent' || (failure.kind === 'transient' && lastAttempt))
              noteMissedWelcome(missed, data.corpId, 'failed');
            throw err;
          }
        }),
      ]),
    };
  };
}
