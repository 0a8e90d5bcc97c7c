import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/** The daily retention sweep of one corp (made by its per-corp job scheduler). */
export const retentionSweepJob = defineJob({
  queue: QueueName.maintenance,
  name: 'privacy-retention-sweep',
  schema: z.object({ corpId: z.string().min(1) }),
});

/**
 * Cancels a customer's mass-send tasks still awaiting the advisor after an opt-out or an erasure
 * (needs the WeCom API, so the worker runs it). `atMs`: when it was asked, part of the id.
 */
export const privacyCancelPendingJob = defineJob({
  queue: QueueName.maintenance,
  name: 'privacy-cancel-pending',
  schema: z.object({
    corpId: z.string().min(1),
    customerId: z.string().regex(/^[0-9a-f]{24}$/),
    atMs: z.number().int().optional(),
  }),
  jobId: (d) => `privacy-cancel-${d.customerId}-${d.atMs ?? Date.now()}`,
});
