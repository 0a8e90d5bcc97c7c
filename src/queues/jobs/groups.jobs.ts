import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/** Nightly customer-group reconciliation for one corp (docs/engagement.md). */
export const groupsReconcileJob = defineJob({
  queue: QueueName.maintenance,
  name: 'groups-reconcile',
  schema: z.object({ corpId: z.string().min(1) }),
  jobId: (d) => `groups-reconcile-${d.corpId}`,
});

/** Pushes one group welcome template to WeCom (add, edit or delete; docs/wecom.md §11.6). */
export const groupWelcomeSyncJob = defineJob({
  queue: QueueName.maintenance,
  name: 'group-welcome-sync',
  schema: z.object({
    corpId: z.string().min(1),
    templateId: z.string().regex(/^[a-f0-9]{24}$/),
    revision: z.number().int().min(0),
  }),
  jobId: (d) => `group-welcome-${d.templateId}-${d.revision}`,
  defaults: { attempts: 5, backoff: { type: 'exponential', delay: 5000 } },
});
