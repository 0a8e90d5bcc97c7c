import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/** An advisor's part of a delivery job id: no `:`, whatever the corp id and userid hold. */
export const advisorKey = (corpId: string, advisorUserid: string): string =>
  createHash('sha256').update(`${corpId}\u0000${advisorUserid}`).digest('base64url').slice(0, 16);

/**
 * Delivers an advisor's owed task cards after a short debounce (docs/tasks.md). One job per advisor
 * and debounce slot (`slot`: real time over the debounce, `slotMs`): every request in the same
 * slot is the same job, which runs after the slot has ended, so it sees every task requested in
 * it. `reasonId` names what asked first (a task or schedule id); `round` counts the waits for
 * tasks still arriving. Without a slot (jobs of an older release) the id is the reason's.
 */
export const taskNotifyJob = defineJob({
  queue: QueueName.scheduled,
  name: 'task-notify',
  schema: z.object({
    corpId: z.string().min(1),
    advisorUserid: z.string().min(1),
    reasonId: z.string().min(1).default('legacy'),
    round: z.number().int().min(0).default(0),
    slot: z.number().int().min(0).optional(),
    slotMs: z.number().int().min(1).optional(),
  }),
  jobId: (d) =>
    d.slot !== undefined
      ? `tnotify-${advisorKey(d.corpId, d.advisorUserid)}-${d.slotMs ?? 0}-${d.slot}${d.round ? `-w${d.round}` : ''}`
      : `tnotify-${d.reasonId}${d.round ? `-w${d.round}` : ''}`,
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
