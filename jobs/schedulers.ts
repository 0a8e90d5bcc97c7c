import type { RepeatOptions } from 'bullmq';
import type { z } from 'zod';
import type { Logger } from '../src/infra/logger.js';
import type { JobContract } from '../src/queues/job-contract.js';
import { corpSchedulersJob, customersReconcileJob } from '../src/queues/jobs/customers.jobs.js';
import { channelsReconcileJob, leadsTickJob } from '../src/queues/jobs/acquisition.jobs.js';
import { broadcastTickJob, momentTickJob } from '../src/queues/jobs/broadcasts.jobs.js';
import { groupsReconcileJob } from '../src/queues/jobs/groups.jobs.js';
import { kpiTickJob } from '../src/queues/jobs/kpis.jobs.js';
import { outcomesDailyJob } from '../src/queues/jobs/outcomes.jobs.js';
import { retentionSweepJob } from '../src/queues/jobs/privacy.jobs.js';
import { scheduleSweepJob } from '../src/queues/jobs/schedules.jobs.js';
import { taskTickJob } from '../src/queues/jobs/tasks.jobs.js';
import type { Queues } from '../src/queues/queue-factory.js';
import type { QueueName } from '../src/queues/queue-names.js';
import { refusalOf } from '../src/domain/corps/corp-scope.js';
import type { WorkerContext } from './context.js';

/**
 * Every repeatable job of the product (docs/architecture.md §4, "Job schedulers"), in this one file.
 * A scheduler is a BullMQ job scheduler: an id, a repeat rule and the job (contract and payload)
 * it makes. Upserting is idempotent, so every worker that consumes the scheduler's queue installs
 * them when it starts; a worker that does not consume the queue (the welcome-only worker)
 * installs none.
 */
export interface SchedulerSpec {
  id: string;
  repeat: Omit<RepeatOptions, 'key'>;
  contract: Pick<JobContract<z.ZodType>, 'queue' | 'name' | 'schema'>;
  data: Record<string, unknown>;
}

const spec = (
  id: string,
  repeat: SchedulerSpec['repeat'],
  contract: SchedulerSpec['contract'],
  data: Record<string, unknown> = {},
): SchedulerSpec => ({ id, repeat, contract, data });

/** What installing schedulers needs: the queues, the corps, and the test pattern when the config has one. */
export type SchedulerContext = Pick<WorkerContext, 'queues' | 'corps'> & {
  config?: Pick<WorkerContext['config'], 'testSchedulerPattern'>;
};

/** Nightly, at 03:00 in each corp's own time zone (quiet for WeCom and for people). */
const NIGHTLY = '0 3 * * *';
/** Daily at 04:30 corp-local (after the 03:00 reconciliation has seen endings). */
const DAILY_RETENTION = '30 4 * * *';

/** The cluster-wide schedulers: one each for the whole cluster. */
export const clusterSchedulers: readonly SchedulerSpec[] = [
  // The minute sweep moves due schedules into `scheduled` (docs/architecture.md §6).
  spec('schedule-sweep', { every: 60_000 }, scheduleSweepJob),
  // The tasks' minute tick: ladder, owed cards, transfer polls (docs/tasks.md).
  spec('tasks-tick', { every: 60_000 }, taskTickJob),
  // The cockpit's 15-minute tick (docs/cockpit.md).
  spec('kpis-tick', { pattern: '*/15 * * * *' }, kpiTickJob),
  // The hourly re-install of the per-corp schedulers (new corps, changed time zones).
  spec('corp-schedulers', { pattern: '7 * * * *' }, corpSchedulersJob),
  // Broadcasts every 5 minutes: a broadcast starts at most 5 minutes late; WeCom is polled gently (docs/engagement.md).
  spec('broadcast-tick', { every: 300_000 }, broadcastTickJob),
  // Moments tasks every 10 minutes: publishing has no callback; a day's delay before the reminder needs no more (docs/engagement.md).
  spec('moment-tick', { every: 600_000 }, momentTickJob),
  // Leads every minute: waiting leads routed, the first-contact SLA ladder (docs/acquisition.md).
  spec('leads-tick', { every: 60_000 }, leadsTickJob),
  // Channel codes read back from WeCom hourly (docs/acquisition.md, "Reconciliation").
  spec('channels-reconcile', { pattern: '23 * * * *' }, channelsReconcileJob),
];

/** Nightly at 03:30 corp-local, after the customers' reconciliation (docs/engagement.md). */
const GROUPS_NIGHTLY = '30 3 * * *';
/** Daily at 05:00 corp-local: after the DMS's nightly export has arrived (docs/outcomes.md). */
const DAILY_OUTCOMES = '0 5 * * *';

/** One dealer corp's schedulers, in its own time zone: the nightly reconciliation, the daily retention sweep and the outcomes' no-show run. */
export function corpSchedulers(corpId: string, timeZone: string): SchedulerSpec[] {
  return [
    spec(`reconcile-${corpId}`, { pattern: NIGHTLY, tz: timeZone }, customersReconcileJob, { corpId }),
    spec(`retention-${corpId}`, { pattern: DAILY_RETENTION, tz: timeZone }, retentionSweepJob, { corpId }),
    spec(`groups-reconcile-${corpId}`, { pattern: GROUPS_NIGHTLY, tz: timeZone }, groupsReconcileJob, { corpId }),
    spec(`outcomes-daily-${corpId}`, { pattern: DAILY_OUTCOMES, tz: timeZone }, outcomesDailyJob, { corpId }),
  ];
}

/**
 * Scheduler ids that were renamed (docs/architecture.md §11, "Renaming a job"): removed wherever
 * their replacement is installed, so the old and the new one never both run.
 */
export const retiredSchedulerIds: readonly string[] = ['schedule-sweep-every-minute', 'tasks-tick-every-minute'];

/**
 * The repeat rule as installed: a cron scheduler's pattern replaced by `TEST_SCHEDULER_PATTERN`
 * when a test sets it (config refuses it in production), so the 15-minute, hourly and daily jobs
 * run several times within a test (docs/scale.md, "Many instances"); the time zone stays.
 */
export function installedRepeat(s: SchedulerSpec, testPattern: string | undefined): SchedulerSpec['repeat'] {
  return testPattern && s.repeat.pattern ? { ...s.repeat, pattern: testPattern } : s.repeat;
}

/**
 * Installs a scheduler unless it is already installed as specified. Re-upserting an unchanged
 * scheduler is not harmless: BullMQ replaces the scheduler's pending iteration, so a daily job
 * still waiting behind a backlog (1,500 corps' 04:30 sweeps) when the hourly `corp-schedulers`
 * run or a worker start re-installs it would be pushed to the next day, and that day's run lost
 * (found by the multi-instance test, docs/scale.md "Many instances").
 */
async function upsert(queues: Queues, s: SchedulerSpec, testPattern: string | undefined): Promise<void> {
  const data = s.contract.schema.parse(s.data) as Record<string, unknown>;
  const repeat = installedRepeat(s, testPattern);
  const queue = queues.get(s.contract.queue);
  const current = await queue.getJobScheduler(s.id);
  const unchanged =
    current !== undefined &&
    current.name === s.contract.name &&
    (current.pattern ?? undefined) === repeat.pattern &&
    (current.tz ?? undefined) === repeat.tz &&
    (current.every ?? undefined) === (repeat.every === undefined ? undefined : Number(repeat.every)) &&
    JSON.stringify(current.template?.data ?? {}) === JSON.stringify(data);
  if (unchanged) return;
  await queue.upsertJobScheduler(s.id, repeat, { name: s.contract.name, data });
}

/** Installs the cluster-wide schedulers of the queues this worker consumes and retires the old ids. */
export async function installClusterSchedulers(
  queues: Queues,
  consumed: readonly QueueName[],
  testPattern?: string,
): Promise<string[]> {
  const mine = clusterSchedulers.filter((s) => consumed.includes(s.contract.queue));
  for (const s of mine) await upsert(queues, s, testPattern);
  for (const queue of new Set(mine.map((s) => s.contract.queue))) {
    for (const id of retiredSchedulerIds) await queues.get(queue).removeJobScheduler(id);
  }
  return mine.map((s) => s.id);
}

/**
 * Installs the per-corp schedulers of every dealer corp that runs background work (idempotent;
 * the `corp-schedulers` job re-runs it hourly). Returns how many corps got theirs.
 */
export async function installCorpSchedulers(ctx: SchedulerContext, corpIds: readonly string[]): Promise<number> {
  let installed = 0;
  for (const corpId of corpIds) {
    const corp = ctx.corps?.get(corpId);
    if (!corp || refusalOf(corp)) continue;
    for (const s of corpSchedulers(corpId, corp.timezone))
      await upsert(ctx.queues, s, ctx.config?.testSchedulerPattern);
    installed++;
  }
  return installed;
}

/**
 * At worker start: the schedulers of the queues this worker consumes, each installed once. A
 * failure is logged; the hourly `corp-schedulers` job (and the next start) install them again.
 */
export async function installSchedulers(
  ctx: SchedulerContext,
  consumed: readonly QueueName[],
  corpIds: readonly string[],
  log: Logger,
): Promise<void> {
  try {
    const cluster = await installClusterSchedulers(ctx.queues, consumed, ctx.config?.testSchedulerPattern);
    const corps = consumed.includes(customersReconcileJob.queue) ? await installCorpSchedulers(ctx, corpIds) : 0;
    if (cluster.length > 0 || corps > 0) log.info({ cluster, corps }, 'job schedulers installed');
  } catch (err) {
    log.error(
      { err: (err as Error).message },
      'could not install the job schedulers; the hourly check and the next start retry',
    );
  }
}
