import type { Redis } from 'ioredis';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import type { CorpApi } from '../../wecom/corp-api.js';
import type { PersonalData } from '../customers/personal-data.js';
import type { Corp } from '../corps/corp.types.js';
import { tuningWith, type Tuning } from '../tuning.js';
import { taskSettingsOf, type TaskSettings } from './task-settings.js';

/** What the task services need for one corp; built by the worker per job (jobs/processors/tasks.jobs.ts). */
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

/** The shared parts both the worker context and an inbound handler context carry. */
export interface TaskDepsParts {
  config: { redis: { queuePrefix: string }; publicBaseUrl: string; defaultTimezone: string };
  logger: Logger;
  clock: Clock;
  queues: Queues;
  redis: Redis;
  pd: PersonalData;
  wecom: { forCorp(creds: { corpId: string; secret: string; agentId: number }): CorpApi };
  tuning?: Partial<Tuning>;
}

/** Task dependencies for a dealer corp, or undefined for the car maker's corp or a disabled one. */
export function buildTaskDeps(corp: Corp | undefined, parts: TaskDepsParts): TaskDeps | undefined {
  if (!corp || corp.kind === 'oem' || !corp.enabled) return undefined;
  return {
    corpId: corp.corpId,
    timeZone: corp.timezone || parts.config.defaultTimezone,
    settings: taskSettingsOf(corp),
    api: parts.wecom.forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: corp.agentId }),
    clock: parts.clock,
    queues: parts.queues,
    redis: parts.redis,
    keyPrefix: parts.config.redis.queuePrefix,
    logger: parts.logger,
    pd: parts.pd,
    publicBaseUrl: parts.config.publicBaseUrl,
    tuning: tuningWith(parts.tuning),
  };
}
