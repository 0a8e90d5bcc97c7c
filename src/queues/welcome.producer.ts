import { welcomeJob, type WelcomeJob } from './jobs/welcome.jobs.js';
import type { Queues } from './queue-factory.js';

export { welcomeJobSchema, welcomeJobId, type WelcomeJob } from './jobs/welcome.jobs.js';

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
  return {
    corpId,
    userid: event.userId,
    externalUserId: event.externalUserId,
    state: event.state,
    welcomeCode: event.welcomeCode,
    receivedAt,
    eventTime: event.createTime,
  };
}

export const WELCOME_JOB_NAME = welcomeJob.name;

export async function enqueueWelcome(queues: Queues, job: WelcomeJob): Promise<string> {
  const added = await welcomeJob.enqueue(queues, job);
  return added.id as string;
}
