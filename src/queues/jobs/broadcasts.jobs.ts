import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/**
 * The broadcasts' tick (docs/engagement.md): sends approved broadcasts whose time came, polls
 * WeCom's progress of the ones handed to advisors, reminds and escalates. Once per cluster
 * through a job scheduler.
 */
export const broadcastTickJob = defineJob({
  queue: QueueName.maintenance,
  name: 'broadcast-tick',
  schema: z.object({}),
  jobId: () => 'broadcast-tick',
});
