import type { Clock } from '../../../infra/clock.js';
import type { Logger } from '../../../infra/logger.js';
import type { Queues } from '../../../queues/queue-factory.js';
import type { CorpApi } from '../../../wecom/corp-api.js';
import type { CorpReads } from '../../corps/corp-read-cache.js';
import type { PersonalData } from '../../customers/personal-data.js';
import type { QuietHours } from '../../tasks/task-settings.js';

/** What the rules engine needs for one corp; built by the worker-side handler per job. */
export interface EngineDeps {
  corpId: string;
  timeZone: string;
  /** The corp's quiet hours (task settings), for rules without their own guard. */
  quietHours: QuietHours | null;
  api: CorpApi;
  clock: Clock;
  queues: Queues;
  logger: Logger;
  pd: PersonalData;
  /** Where card links point (the console). */
  publicBaseUrl: string;
  /** How long customer messages of one advisor and content are collected into one task. Default 10 s. */
  batchWindowMs?: number;
  /** Delay between mass-send result polls. Default 10 min. */
  pollDelayMs?: number;
  /** The worker's per-corp cache of tag groups and rules (docs/scale.md §4); MongoDB is read without it. */
  reads?: CorpReads;
}
