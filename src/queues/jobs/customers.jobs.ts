import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/** The nightly reconciliation of one dealer corp (made by its per-corp job scheduler). */
export const customersReconcileJob = defineJob({
  queue: QueueName.maintenance,
  name: 'customers-reconcile',
  schema: z.object({ corpId: z.string().min(1) }),
});

/** The hourly re-install of the per-corp job schedulers (new corps, changed time zones). */
export const corpSchedulersJob = defineJob({
  queue: QueueName.maintenance,
  name: 'corp-schedulers',
  schema: z.object({}),
});
