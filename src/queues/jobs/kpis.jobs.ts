import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/** The cockpit's 15-minute tick (docs/cockpit.md): today's rollup, the settle window, the Monday digest. */
export const kpiTickJob = defineJob({
  queue: QueueName.maintenance,
  name: 'kpis-tick',
  schema: z.object({}),
});
