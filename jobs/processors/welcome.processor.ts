import { UnrecoverableError, type Job } from 'bullmq';
import type { Corp } from '../../src/domain/corps/corp.types.js';
import type { Logger } from '../../src/infra/logger.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { welcomeJobSchema, type WelcomeJob } from '../../src/queues/welcome.producer.js';
import type { CorpApi } from '../../src/wecom/corp-api.js';
import { toJobError } from '../../src/wecom/job-errors.js';
import type { WorkerContext } from '../context.js';
import type { ProcessorFactory } from '../registry.js';

/** WeCom accepts a welcome code for 20 s after the add event (reference §3.9). */
export const WELCOME_WINDOW_MS = 20_000;

export type WelcomeOutcome = { sent: true; ruleId?: string } | { sent: false; reason: string };

/** Picks and sends the welcome for one add (the campaign rules issue provides the real one). */
export type WelcomeSender = (input: { corp: Corp; api: CorpApi; job: WelcomeJob; ctx: WorkerContext; log: Logger }) => Promise<WelcomeOutcome>;

/** Until welcome rules exist, record that the job ran and send nothing. */
export const recordOnlyWelcome: WelcomeSender = async ({ log, job }) => {
  log.info({ corpId: job.corpId, userid: job.userid }, 'welcome job ran; no welcome rules configured');
  return { sent: false, reason: 'no_rule' };
};

/**
 * `wecom-welcome` (design §4, priority lane): the job was enqueued straight from the add
 * callback. A code older than WeCom's window is not tried (41050 would follow); WeCom errors map
 * to retry / UnrecoverableError through the client's classification.
 */
export function createWelcomeProcessor(send: WelcomeSender = recordOnlyWelcome): ProcessorFactory {
  return (ctx: WorkerContext) => ({
    queue: QueueName.wecomWelcome,
    concurrency: 32,
    process: async (job: Job, log: Logger): Promise<WelcomeOutcome> => {
      const parsed = welcomeJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('wecom-welcome job data does not fit the schema');
      const data = parsed.data;
      const corp = ctx.corps?.get(data.corpId);
      if (!corp) throw new Error(`corp ${data.corpId} is not loaded yet`);
      const ageMs = ctx.clock.nowMs() - data.eventTime * 1000;
      if (ageMs > WELCOME_WINDOW_MS) {
        log.warn({ corpId: data.corpId, ageMs, alert: true }, 'welcome code expired before it could be used');
        return { sent: false, reason: 'expired' };
      }
      try {
        return await send({ corp, api: ctx.wecom.forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: corp.agentId }), job: data, ctx, log });
      } catch (err) {
        throw toJobError(err);
      }
    },
  });
}
