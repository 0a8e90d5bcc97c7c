import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { cancelPendingMessagesFor } from '../../src/domain/messages/message.service.js';
import { PRIVACY_CANCEL_PENDING_TASK, RETENTION_SWEEP_TASK } from '../../src/domain/privacy/privacy-jobs.js';
import { defaultPrivacySettings } from '../../src/domain/privacy/privacy-settings.js';
import { runRetentionSweep } from '../../src/domain/privacy/retention-sweep.js';
import type { Queues } from '../../src/queues/queue-factory.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { toJobError } from '../../src/wecom/job-errors.js';
import type { MaintenanceTask } from './maintenance.processor.js';
import { engineDepsFor } from './rules-engine-deps.js';

/** Daily at 04:30 in the corp's own time zone (after the 03:00 reconciliation has seen endings). */
const DAILY = '30 4 * * *';
const corpJob = z.object({ corpId: z.string().min(1) });
const customerJob = corpJob.extend({ customerId: z.string().regex(/^[0-9a-f]{24}$/) });

/** Installs (idempotently) one corp's daily retention sweep; called with the other per-corp schedulers. */
export async function ensureRetentionSweepScheduler(queues: Queues, corpId: string, timeZone: string): Promise<void> {
  await queues.get(QueueName.maintenance).upsertJobScheduler(`retention-${corpId}`, { pattern: DAILY, tz: timeZone }, { name: RETENTION_SWEEP_TASK, data: { corpId } });
}

/**
 * Maintenance tasks of personal-data handling (docs/security.md): the daily retention sweep per corp (erases
 * customers whose last relationship ended more than `privacy.retentionDays` ago) and the
 * cancellation of a customer's WeCom mass-send tasks after an opt-out or an erasure.
 */
export const privacyMaintenanceTasks: Record<string, MaintenanceTask> = {
  [RETENTION_SWEEP_TASK]: async (job, log, ctx) => {
    const { corpId } = corpJob.parse(job.data);
    const corp = ctx.corps?.get(corpId);
    if (!corp) throw new UnrecoverableError(`corp ${corpId} is not configured`);
    if (corp.kind === 'oem') return { erased: 0 };
    const retentionDays = (corp.privacy ?? defaultPrivacySettings).retentionDays;
    return runRetentionSweep({ queues: ctx.queues, clock: ctx.clock, hasher: ctx.pd.hasher, cipher: ctx.pd.cipher, logger: log }, { corpId, retentionDays });
  },
  [PRIVACY_CANCEL_PENDING_TASK]: async (job, log, ctx) => {
    const parsed = customerJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`${PRIVACY_CANCEL_PENDING_TASK} job data is invalid`);
    const deps = engineDepsFor(ctx, parsed.data.corpId, log);
    if (!deps) throw new Error(`corp ${parsed.data.corpId} is not loaded`);
    try {
      return { cancelled: await cancelPendingMessagesFor(deps, parsed.data.customerId) };
    } catch (err) {
      throw toJobError(err);
    }
  },
};
