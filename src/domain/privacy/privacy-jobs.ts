import { privacyCancelPendingJob } from '../../queues/jobs/privacy.jobs.js';
import type { Queues } from '../../queues/queue-factory.js';

export interface CancelPendingJob {
  corpId: string;
  customerId: string;
}

/** Asks the worker to cancel what is pending for a customer (ids only in the job). */
export async function requestPendingCancel(queues: Queues, job: CancelPendingJob, atMs: number): Promise<void> {
  await privacyCancelPendingJob.enqueue(queues, { ...job, atMs });
}
