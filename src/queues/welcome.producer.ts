import { hash } from 'node:crypto';
import { z } from 'zod';
import type { Queues } from './queue-factory.js';
import { QueueName } from './queue-names.js';

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

/** What deciding on a welcome needs from an add event: the typed event has it, and so does the web's quick read. */
export interface AddEventFields {
  changeType?: string;
  userId?: string;
  externalUserId?: string;
  state?: string;
  welcomeCode?: string;
  createTime: number;
}

/**
 * The welcome job an add event calls for, or none: only `add_external_contact` /
 * `add_half_external_contact` carrying a WelcomeCode (docs/wecom.md §3.9). One definition for the web
 * process's fast lane and the worker's fallback in the add handler.
 */
export function welcomeJobFor(corpId: string, event: AddEventFields, receivedAt: number): WelcomeJob | undefined {
  if (!event.welcomeCode || !event.userId || !event.externalUserId) return undefined;
  if (event.changeType !== 'add_external_contact' && event.changeType !== 'add_half_external_contact') return undefined;
  return { corpId, userid: event.userId, externalUserId: event.externalUserId, state: event.state, welcomeCode: event.welcomeCode, receivedAt, eventTime: event.createTime };
}

export const WELCOME_JOB_NAME = 'welcome';

/** BullMQ's add arguments for a welcome job (the worker's add and the web's lane share them). */
export function welcomeJobSpec(job: WelcomeJob) {
  const data = welcomeJobSchema.parse(job);
  return { name: WELCOME_JOB_NAME, data, opts: { jobId: welcomeJobId(data.corpId, data.welcomeCode) } };
}

export async function enqueueWelcome(queues: Queues, job: WelcomeJob): Promise<string> {
  const spec = welcomeJobSpec(job);
  await queues.get(QueueName.wecomWelcome).add(spec.name, spec.data, spec.opts);
  return spec.opts.jobId;
}
