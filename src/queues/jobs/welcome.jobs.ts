import { hash } from 'node:crypto';
import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/**
 * A `wecom-welcome` job: only what picking a welcome rule and calling `send_welcome_msg` needs
 * (ids, channel state and the single-use code; no personal data). docs/architecture.md §4: enqueued straight
 * from the raw add event, before any MongoDB or API work, so the 20 s window is not spent there.
 */
export const welcomeJobSchema = z.object({
  corpId: z.string().min(1),
  userid: z.string().min(1),
  externalUserId: z.string().min(1),
  state: z.string().optional(),
  welcomeCode: z.string().min(1),
  /** When the callback reached us (ms): the welcome code expires 20 s after the event. */
  receivedAt: z.number(),
  /** The callback's CreateTime (unix s). */
  eventTime: z.number(),
});

export type WelcomeJob = z.infer<typeof welcomeJobSchema>;

/** The job id is derived from the single-use code: a replayed add cannot welcome twice. */
export function welcomeJobId(corpId: string, welcomeCode: string): string {
  return `welcome-${hash('sha256', `${corpId}\u0000${welcomeCode}`, 'base64url').slice(0, 32)}`;
}

/** The `wecom-welcome` job (docs/architecture.md §4, the priority lane). */
export const welcomeJob = defineJob({
  queue: QueueName.wecomWelcome,
  name: 'welcome',
  schema: welcomeJobSchema,
  jobId: (d) => welcomeJobId(d.corpId, d.welcomeCode),
});
