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

/** Cancels in WeCom the advisor tasks of a broadcast the API cancelled (docs/engagement.md). */
export const broadcastCancelJob = defineJob({
  queue: QueueName.maintenance,
  name: 'broadcast-cancel',
  schema: z.object({ corpId: z.string().min(1), broadcastId: z.string().regex(/^[a-f0-9]{24}$/) }),
  jobId: (d) => `broadcast-cancel-${d.broadcastId}`,
  defaults: { attempts: 5, backoff: { type: 'exponential', delay: 5000 } },
});

/** Creates one stored Moments task in WeCom (`add_moment_task`; docs/engagement.md). */
export const momentCreateJob = defineJob({
  queue: QueueName.maintenance,
  name: 'moment-create',
  schema: z.object({ corpId: z.string().min(1), momentTaskId: z.string().regex(/^[a-f0-9]{24}$/) }),
  jobId: (d) => `moment-create-${d.momentTaskId}`,
});

/** The Moments tick: learns created tasks' ids, records who published, reminds the rest once. */
export const momentTickJob = defineJob({
  queue: QueueName.maintenance,
  name: 'moment-tick',
  schema: z.object({}),
  jobId: () => 'moment-tick',
});
