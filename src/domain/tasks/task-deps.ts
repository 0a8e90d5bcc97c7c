import type { Redis } from 'ioredis';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import type { CorpApi } from '../../wecom/corp-api.js';
import type { PersonalData } from '../customers/personal-data.js';
import type { TaskSettings } from './task-settings.js';
import type { Tuning } from '../tuning.js';

/** What the task services need for one corp; a slice of the corp's scope (src/domain/corps/corp-scope.ts). */
export interface TaskDeps {
  corpId: string;
  timeZone: string;
  settings: TaskSettings;
  api: CorpApi;
  clock: Clock;
  queues: Queues;
  /** Producer connection: per-advisor locks and per-minute card counters. */
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
  pd: PersonalData;
  /** Card links open `${publicBaseUrl}/console/m/tasks/:id`. */
  publicBaseUrl: string;
  /** Notification debounce, transfer polling (defaults filled). */
  tuning: Tuning;
}
