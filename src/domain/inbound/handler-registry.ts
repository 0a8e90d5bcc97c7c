import type { AppConfig } from '../../../config/index.js';
import type { Clock } from '../../infra/clock.js';
import type { Redis } from 'ioredis';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import type { WecomClient } from '../../wecom/client.js';
import type { TypedEvent } from '../../wecom/events.js';
import type { PersonalData } from '../customers/personal-data.js';
import type { CorpScope } from '../corps/corp-scope.js';
import type { Corp } from '../corps/corp.types.js';
import type { Tuning } from '../tuning.js';

/** What a handler may use. `corp` carries the decrypted credentials for the WeCom client. */
export interface HandlerContext {
  corp: Corp | undefined;
  /**
   * The corp's scope (src/domain/corps/corp-scope.ts), looked up once per callback; undefined for
   * a car-maker or unknown corp, whose callbacks are only recorded. Feature handlers take their
   * dependencies from it.
   */
  scope: CorpScope | undefined;
  logger: Logger;
  clock: Clock;
  /** Handlers enqueue first when time matters (the `wecom-welcome` lane, docs/architecture.md §4). */
  queues: Queues;
  config: AppConfig;
  /** The de-duplication key of the callback: a stable id for deterministic downstream job ids. */
  dedupKey: string;
  receivedAt: Date;
  /**
   * The web process stored the add event's welcome job before the callback's job
   * (src/ingest/inbound.producer.ts): the add handler does not enqueue it again.
   */
  welcomeEnqueued?: boolean;
  /** The WeCom client; handlers bind it to `corp` (API calls happen in the worker only). */
  wecom: WecomClient;
  pd: PersonalData;
  /** Producer connection (idempotency marks). */
  redis: Redis;
  /** Timing settings over the defaults (src/domain/tuning.ts). */
  tuning?: Partial<Tuning>;
}

/** A feature's registration function: `(registry) => registry.register('change_external_contact.add_external_contact', …)`. */
export type HandlerModule = (registry: HandlerRegistry) => void;

/** One idempotent reaction to an event (BullMQ delivers at least once). */
export type InboundHandler = (event: TypedEvent, ctx: HandlerContext) => Promise<void>;

/**
 * Handlers keyed by event key. Lookup goes from the most specific key to the least:
 * `change_external_contact.add_external_contact` → `change_external_contact` → `*`; a key can
 * have several handlers, run in registration order. Features register theirs through
 * `inboundHandlerModules` (src/domain/inbound/handlers.ts).
 */
export class HandlerRegistry {
  private readonly handlers = new Map<string, InboundHandler[]>();

  register(key: string, handler: InboundHandler): this {
    const list = this.handlers.get(key) ?? [];
    list.push(handler);
    this.handlers.set(key, list);
    return this;
  }

  /** The handlers for an event: the most specific key that has any. */
  resolve(event: TypedEvent): InboundHandler[] {
    const dot = event.key.indexOf('.');
    const candidates = dot > 0 ? [event.key, event.key.slice(0, dot), '*'] : [event.key, '*'];
    for (const key of candidates) {
      const found = this.handlers.get(key);
      if (found && found.length > 0) return found;
    }
    return [];
  }

  keys(): string[] {
    return [...this.handlers.keys()];
  }
}

/**
 * The fallback for event types no feature handles: the inbound_events record written by the
 * processor is the record; this logs the event's type and ids at debug level.
 */
export const recordOnlyHandler: InboundHandler = async (event, ctx) => {
  ctx.logger.debug({ type: event.key, corpId: ctx.corp?.corpId }, 'inbound event recorded (no handler registered)');
};
