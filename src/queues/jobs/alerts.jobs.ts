import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/**
 * An operator alert the web raised, sent by the worker as a WeCom app message (the web never
 * calls WeCom inside a request, docs/architecture.md §2). Each alert is its own job.
 */
export const operatorAlertJob = defineJob({
  queue: QueueName.maintenance,
  name: 'operator-alert',
  legacyNames: ['alert.send'],
  schema: z.object({ corpId: z.string(), userIds: z.array(z.string()).min(1), text: z.string().max(2000) }),
  jobId: () => `alert-${randomUUID()}`,
});
