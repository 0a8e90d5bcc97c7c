import { z } from 'zod';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

const objectId = z.string().regex(/^[a-f0-9]{24}$/);
const corpId = z.string().min(1).max(64);

/**
 * Keeps one channel's WeCom contact way in step with its stored revision (add, whole-object
 * update, delete; docs/acquisition.md "Channel codes"). One job per revision: a repeated enqueue
 * of the same edit is a no-op, and the job applies whatever is latest when it runs.
 */
export const channelSyncJob = defineJob({
  queue: QueueName.scheduled,
  name: 'channel-sync',
  schema: z.object({ corpId, channelId: objectId, revision: z.number().int().min(1) }),
  jobId: (d) => `channel-sync-${d.channelId}-${d.revision}`,
});

/**
 * Re-computes a team code's members (advisors on shift, not on leave, under their cap). Debounced:
 * one job per channel per debounce window, delayed to the window's end, so a burst of lead and
 * shift changes becomes one `update_contact_way` (docs/acquisition.md "Team codes").
 */
export const teamCodeRefreshJob = defineJob({
  queue: QueueName.scheduled,
  name: 'team-code-refresh',
  schema: z.object({ corpId, channelId: objectId, window: z.number().int().min(0) }),
  jobId: (d) => `team-code-refresh-${d.channelId}-w${d.window}`,
});

/** Sends the advisor the new-lead card (one per lead and assignment). */
export const leadCardJob = defineJob({
  queue: QueueName.scheduled,
  name: 'lead-card',
  schema: z.object({ corpId, leadId: objectId, assignment: z.number().int().min(1) }),
  jobId: (d) => `lead-card-${d.leadId}-${d.assignment}`,
});

/**
 * Announces one advisor's new leads of one intake batch (docs/acquisition.md "Cards in a burst"):
 * own cards for as many as the advisor's window has room for, the rest wait for the flush. Ids
 * only; named after the batch's first lead, so a repeated enqueue of the same batch is a no-op.
 */
export const leadCardsJob = defineJob({
  queue: QueueName.scheduled,
  name: 'lead-cards',
  schema: z.object({
    corpId,
    advisorUserid: z.string().min(1).max(64),
    leads: z
      .array(z.object({ leadId: objectId, assignment: z.number().int().min(1) }))
      .min(1)
      .max(1000),
  }),
  jobId: (d) => `lead-cards-${d.leads[0]?.leadId}-${d.leads[0]?.assignment}`,
});

/**
 * Sends an advisor's lead cards that waited for a place in their per-member window: each as its
 * own card when places remain for all, else one digest (docs/acquisition.md "Cards in a burst").
 * The producer names the job after the moment it is due, so leads waiting together share one.
 */
export const leadCardFlushJob = defineJob({
  queue: QueueName.scheduled,
  name: 'lead-card-flush',
  schema: z.object({ corpId, advisorUserid: z.string().min(1).max(64) }),
});

/** The minute tick of leads for every dealer corp: waiting leads routed, the SLA ladder (docs/acquisition.md). */
export const leadsTickJob = defineJob({ queue: QueueName.maintenance, name: 'leads-tick', schema: z.object({}) });

/** Hourly: channel codes read back from WeCom (docs/acquisition.md "Reconciliation"). */
export const channelsReconcileJob = defineJob({
  queue: QueueName.maintenance,
  name: 'channels-reconcile',
  schema: z.object({}),
});
