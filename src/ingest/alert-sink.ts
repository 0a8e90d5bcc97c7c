import type { AppConfig } from '../../config/index.js';
import type { AlertSink } from '../infra/alerts.js';
import { operatorAlertJob } from '../queues/jobs/alerts.jobs.js';
import type { Queues } from '../queues/queue-factory.js';

/** The `maintenance` job that carries an alert to the worker, which sends it as a WeCom app message. */
export interface AlertJobData {
  corpId: string;
  userIds: string[];
  text: string;
}

/**
 * When ALERT_WECOM_CORP_ID and ALERT_USERIDS are set, alerts become WeCom app messages to the
 * operators. The web never calls WeCom inside a request (docs/architecture.md §2): it enqueues a job; the
 * worker's maintenance processor sends it.
 */
export function createAlertSink(config: AppConfig, queues: Queues): AlertSink | undefined {
  const corpId = config.alerts.wecomCorpId;
  if (!corpId || config.alerts.userIds.length === 0) return undefined;
  return async (text) => {
    const data: AlertJobData = { corpId, userIds: [...config.alerts.userIds], text };
    await operatorAlertJob.enqueue(queues, data);
  };
}
