import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/index.js';
import type { Clock } from '../src/infra/clock.js';
import type { Logger } from '../src/infra/logger.js';
import type { Queues } from '../src/queues/queue-factory.js';

/** What every processor may use; built once per worker process and passed in. */
export interface WorkerContext {
  config: AppConfig;
  logger: Logger;
  clock: Clock;
  /** Producer connection for domain code that enqueues. */
  redis: Redis;
  queues: Queues;
}
