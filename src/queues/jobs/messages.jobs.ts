import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

const batch = z.object({ batchId: z.string().min(1), corpId: z.string().min(1) });

/** Flushes a message batch after its window (docs/architecture.md §6): one `add_msg_template` task. */
export const messageBatchJob = defineJob({
  queue: QueueName.scheduled,
  name: 'message-batch',
  schema: batch,
  jobId: (d) => `msgbatch-${d.batchId}`,
});

/**
 * Polls a batch's send result. `attempt` numbers the polls (1, 2 ...); jobs enqueued before it was
 * in the payload carry it only in their id (`msgpoll-<batch>-<n>`).
 */
export const messagePollJob = defineJob({
  queue: QueueName.scheduled,
  name: 'message-poll',
  schema: batch.extend({ attempt: z.number().int().min(1).optional() }),
  jobId: (d) => `msgpoll-${d.batchId}-${d.attempt ?? 1}`,
});
