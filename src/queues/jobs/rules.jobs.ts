import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/**
 * Plans a `date` rule for existing customers after it was created, changed or enabled. One job per
 * request (the rule may change again while an earlier backfill runs; planning is idempotent).
 */
export const rulesBackfillJob = defineJob({
  queue: QueueName.maintenance,
  name: 'rules-backfill',
  schema: z.object({ ruleId: z.string().min(1), version: z.number().int().optional() }),
  jobId: (d) => `rules-backfill-${d.ruleId}-v${d.version ?? 0}-${Date.now().toString(36)}`,
});
