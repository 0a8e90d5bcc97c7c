import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/**
 * One dealer corp's daily outcomes run (docs/outcomes.md): bookings whose window closed without
 * an arrival become no-shows with a follow-up task for the advisor. Installed per corp in its
 * own time zone (jobs/schedulers.ts); a repeated run finds nothing new.
 */
export const outcomesDailyJob = defineJob({
  queue: QueueName.maintenance,
  name: 'outcomes-daily',
  schema: z.object({ corpId: z.string().min(1) }),
});
