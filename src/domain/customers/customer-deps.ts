import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import type { CorpApi } from '../../wecom/corp-api.js';
import type { CorpReads } from '../corps/corp-read-cache.js';
import type { PersonalData } from './personal-data.js';

/** What the customer services need, passed in (no globals), for one corp. */
export interface CustomerDeps {
  corpId: string;
  api: CorpApi;
  pd: PersonalData;
  clock: Clock;
  queues: Queues;
  logger: Logger;
  /** The worker's per-corp cache of tag groups and rules (docs/scale.md §4); MongoDB is read without it. */
  reads?: CorpReads;
}
