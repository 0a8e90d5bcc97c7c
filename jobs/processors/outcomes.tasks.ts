import { detectNoShows } from '../../src/domain/outcomes/no-show.service.js';
import type { Queues } from '../../src/queues/queue-factory.js';
import { QueueName } from '../../src/queues/queue-names.js';
import type { MaintenanceTask } from './maintenance.processor.js';

export const OUTCOMES_DAILY_TASK = 'outcomes-daily';
const OUTCOMES_DAILY_SCHEDULER_ID = 'outcomes-daily';

/** Installs the daily outcomes run (one for the cluster), 04:30 Asia/Shanghai: after the DMS's nightly export. */
export async function ensureOutcomesDailyScheduler(queues: Queues): Promise<void> {
  await queues.get(QueueName.maintenance).upsertJobScheduler(OUTCOMES_DAILY_SCHEDULER_ID, { pattern: '30 4 * * *', tz: 'Asia/Shanghai' }, { name: OUTCOMES_DAILY_TASK, data: {} });
}

/**
 * Maintenance tasks of outcomes (docs/outcomes.md): the daily no-show detection per dealer corp
 * (bookings whose window closed without an arrival → a follow-up task for the advisor).
 * Idempotent: a repeated run finds nothing new.
 */
export function outcomesMaintenanceTasks(listCorpIds: () => string[]): Record<string, MaintenanceTask> {
  return {
    [OUTCOMES_DAILY_TASK]: async (_job, log, ctx) => {
      let noShows = 0;
      for (const corpId of listCorpIds()) {
        const corp = ctx.corps?.get(corpId);
        if (!corp || corp.kind === 'oem' || !corp.enabled) continue;
        const r = await detectNoShows({ corpId, now: () => ctx.clock.now() });
        noShows += r.noShows;
        if (r.noShows > 0) log.info({ corpId, noShows: r.noShows }, 'no-shows found; follow-up tasks created');
      }
      return { noShows };
    },
  };
}
