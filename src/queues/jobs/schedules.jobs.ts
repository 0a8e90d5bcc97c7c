import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ScheduleKind } from '../../domain/schedules/schedule.model.js';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/** A due schedule's job id: derived from the schedule id, so the sweep and its recovery agree. */
export const scheduleJobId = (scheduleId: string): string => `sched-${scheduleId}`;

/**
 * The job id of a batch of one corp's follow-ups due together (docs/tasks.md): derived from the
 * schedule ids, so the sweep adding the same batch again is a no-op.
 */
export const scheduleBatchJobId = (scheduleIds: readonly string[]): string =>
  `schedb-${createHash('sha256')
    .update([...scheduleIds].sort().join(','))
    .digest('base64url')
    .slice(0, 22)}`;

/**
 * A due schedule on `scheduled` (docs/architecture.md §6): ids only. A `follow_up` job may carry a
 * batch (`scheduleIds`, the first of them in `scheduleId`): one corp's follow-ups due at the same
 * moment, created with a few commands for the whole batch.
 */
const dueSchedule = z.object({
  scheduleId: z.string().min(1),
  corpId: z.string().min(1),
  kind: z.string().min(1).optional(),
  scheduleIds: z
    .array(z.string().regex(/^[a-f0-9]{24}$/))
    .min(1)
    .max(1000)
    .optional(),
});
const dueScheduleJobId = (d: z.output<typeof dueSchedule>): string =>
  d.scheduleIds && d.scheduleIds.length > 1 ? scheduleBatchJobId(d.scheduleIds) : scheduleJobId(d.scheduleId);

/** A fired `rule_action` schedule: the rules engine runs the occurrence's actions. */
export const ruleActionJob = defineJob({
  queue: QueueName.scheduled,
  name: 'rule-action',
  legacyNames: ['rule_action'],
  schema: dueSchedule,
  jobId: dueScheduleJobId,
});

/** A fired `follow_up` schedule (or a batch of them): each becomes one follow-up task (docs/tasks.md). */
export const followUpJob = defineJob({
  queue: QueueName.scheduled,
  name: 'follow-up',
  legacyNames: ['follow_up'],
  schema: dueSchedule,
  jobId: dueScheduleJobId,
});

/** The job of each schedule kind (the kind stays snake_case in MongoDB; the job name is kebab-case). */
export const scheduleJobs: Readonly<Record<ScheduleKind, typeof ruleActionJob>> = {
  rule_action: ruleActionJob,
  follow_up: followUpJob,
};

/** The minute sweep on `maintenance` (made by its job scheduler, jobs/schedulers.ts). */
export const scheduleSweepJob = defineJob({
  queue: QueueName.maintenance,
  name: 'schedule-sweep',
  schema: z.object({}),
});
