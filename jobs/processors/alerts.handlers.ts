import { operatorAlertJob } from '../../src/queues/jobs/alerts.jobs.js';
import { on, type JobEntry } from '../processor.js';

/** Sends an operator alert as a WeCom app message (jobs/worker.ts wires the real one). */
export type AlertSender = (corpId: string, userIds: string[], text: string) => Promise<void>;

/**
 * The operator alerts the web raised. Without a sender (a build or test without one) the alert
 * stays a log line (already written by the raiser) and the job records that it was not delivered.
 */
export function alertsJobs(sendAlert: AlertSender | undefined): JobEntry[] {
  return [
    on(operatorAlertJob, async ({ corpId, userIds, text }, _job, log) => {
      if (!sendAlert) {
        log.warn({ corpId }, 'no WeCom alert sender configured in this build; alert kept as a log line');
        return { delivered: false };
      }
      await sendAlert(corpId, userIds, text);
      return { delivered: true };
    }),
  ];
}
