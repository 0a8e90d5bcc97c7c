import { z } from 'zod';
import type { ScheduleKind } from '../../domain/schedules/schedule.model.js';
import { defineJob } from '../job-contract.js';
import { QueueName } from '../queue-names.js';

/** A due schedule's job id: derived from the schedule id, so the sweep and its recovery agree. */
export const scheduleJobId = (scheduleId: string): string => `sched-${scheduleId}`;

/** A due schedule on `scheduled` (docs/architecture.md §6): ids only. */
const dueSchedule = z.object({
  scheduleId: z.string().min(1),
  corpId: z.string().min(1),
  kind: z.string().min(1).optional(),
});

/** A fired `rule_action` schedule: the rules engine runs the occurrence's actions. */
export const ruleActionJob = defineJob({
  queue: QueueName.scheduled,
  name: 'rule-action',
  legacyNames: ['rule_action'],
  schema: dueSchedule,
  jobId: (d) => scheduleJobId(d.scheduleId),
});

/** A fired `follow_up` schedule: it becomes one follow-up task (docs/tasks.md). */
export const followUpJob = defineJob({
  queue: QueueName.scheduled,
  name: 'follow-up',
  legacyNames: ['follow_up'],
  schema: dueSchedule,
  jobId: (d) => scheduleJobId(d.scheduleId),
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
