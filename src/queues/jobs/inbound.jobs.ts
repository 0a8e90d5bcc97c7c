import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/**
 * A verified, decrypted callback on `wecom-inbound` (docs/architecture.md §3). The XML is sealed
 * (src/ingest/inbound-seal.ts); `xml` in clear only on jobs enqueued before sealing. The job id is
 * the callback's de-duplication key, chosen by the ingest's job writer, so it has no `jobId` here.
 * `welcomeEnqueued`: the web process stored the add event's welcome job before this job, so the
 * worker does not enqueue it again; absent on spooled callbacks (the worker enqueues it).
 */
export const callbackReceivedJob = defineJob({
  queue: QueueName.wecomInbound,
  name: 'callback-received',
  legacyNames: ['callback.received'],
  schema: z
    .object({
      corpId: z.string().min(1),
      receivedAt: z.number(),
      xmlSealed: z.string().min(1).optional(),
      xml: z.string().min(1).optional(),
      /** The add event's welcome job was stored before this job (src/ingest/inbound.producer.ts). */
      welcomeEnqueued: z.boolean().optional(),
    })
    .refine((d) => d.xmlSealed !== undefined || d.xml !== undefined, { message: 'xmlSealed or xml is required' }),
});
