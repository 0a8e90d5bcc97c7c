import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/**
 * Delivers an advisor's owed task cards after a short debounce (docs/tasks.md). `reasonId` names
 * what asked (a task id); `round` counts the waits for tasks still arriving.
 */
export const taskNotifyJob = defineJob({
  queue: QueueName.scheduled,
  name: 'task-notify',
  schema: z.object({
    corpId: z.string().min(1),
    advisorUserid: z.string().min(1),
    reasonId: z.string().min(1).default('legacy'),
    round: z.number().int().min(0).default(0),
  }),
  jobId: (d) => `tnotify-${d.reasonId}${d.round ? `-w${d.round}` : ''}`,
});

/** Starts a customer transfer the API accepted (WeCom is never called inside a request, docs/architecture.md §2). */
export const transferStartJob = defineJob({
  queue: QueueName.scheduled,
  name: 'transfer-start',
  schema: z.object({
    corpId: z.string().min(1),
    transferId: z.string().regex(/^[a-f0-9]{24}$/),
    requestedBy: z.string().min(1),
    input: z.object({
      kind: z.enum(['in_service', 'resigned']),
      handoverUserid: z.string().min(1),
      takeoverUserid: z.string().min(1),
      externalUserIds: z.array(z.string().min(1)).min(1),
      transferSuccessMsg: z.string().max(200).optional(),
    }),
  }),
  jobId: (d) => `transfer-start-${d.transferId}`,
});

/** The tasks' minute tick on `maintenance` (ladder, owed cards, transfer polls; daily inactivity rules). */
export const taskTickJob = defineJob({
  queue: QueueName.maintenance,
  name: 'tasks-tick',
  schema: z.object({}),
});
