import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/index.js';
import type { Corp } from '../src/domain/corps/corp.types.js';
import type { PersonalData } from '../src/domain/customers/personal-data.js';
import type { Alerter } from '../src/infra/alerts.js';
import type { Clock } from '../src/infra/clock.js';
import type { Logger } from '../src/infra/logger.js';
import type { Metrics } from '../src/infra/metrics.js';
import type { Queues } from '../src/queues/queue-factory.js';
import type { WecomClient } from '../src/wecom/client.js';
import type { Tuning } from '../src/domain/tuning.js';
import type { CorpReads } from '../src/domain/corps/corp-read-cache.js';

/** What every processor may use; built once per worker process and passed in. */
export interface WorkerContext {
  config: AppConfig;
  logger: Logger;
  clock: Clock;
  /** Producer connection for domain code that enqueues. */
  redis: Redis;
  queues: Queues;
  /** Corps with decrypted credentials (the worker's CorpCache). */
  corps?: { get(corpId: string): Corp | undefined };
  metrics?: Metrics;
  /** Operator alerts (src/infra/alerts.ts); absent in tests that do not look at them. */
  alerts?: Alerter;
  /** The one WeCom client (token cache, rate limits); `forCorp()` binds a corp's credentials. */
  wecom: WecomClient;
  /** Seals and opens personal data (docs/architecture.md §7). */
  pd: PersonalData;
  /** Timing settings over the production defaults (src/domain/tuning.ts); tests pass shorter ones. */
  tuning?: Partial<Tuning>;
  /** Per-corp tag groups and rules held in memory (docs/scale.md §4); tests without it read MongoDB. */
  reads?: CorpReads;
}
