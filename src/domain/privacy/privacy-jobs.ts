import type { Queues } from '../../queues/queue-factory.js';
import { QueueName } from '../../queues/queue-names.js';

/** Maintenance task: cancel a customer's mass-send tasks still awaiting the advisor (needs the WeCom API, so the worker runs it). */
export const PRIVACY_CANCEL_PENDING_TASK = 'privacy-cancel-pending';
/** Maintenance task: the daily retention sweep of one corp. */
export const RETENTION_SWEEP_TASK = 'privacy-retention-sweep';

export interface CancelPendingJob {
  corpId: string;
  customerId: string;
}

/** Asks the worker to cancel what is pending for a customer (ids only in the job). */
export async function requestPendingCancel(queues: Queues, job: CancelPendingJob, atMs: number): Promise<void> {
  await queues.get(QueueName.maintenance).add(PRIVACY_CANCEL_PENDING_TASK, job, { jobId: `privacy-cancel-${job.customerId}-${atMs}` });
}
