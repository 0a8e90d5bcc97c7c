import type { DomainEvent } from '../../src/domain/events/domain-event.js';
import type { Logger } from '../../src/infra/logger.js';
import type { WorkerContext } from '../context.js';

/**
 * A consumer of one domain event inside the `domain-events` processor. Each runs in order for
 * every event and must be idempotent (at-least-once delivery): the retention policy (customers)
 * first, then the rules engine, then follow-up tasks.
 */
export interface DomainEventHandler {
  name: string;
  handle(event: DomainEvent, ctx: WorkerContext, log: Logger): Promise<void>;
}
