import type { Redis } from 'ioredis';
import type { Context } from 'koa';
import type { AppConfig } from '../../../config/index.js';
import type { ConsoleSessions } from '../../domain/auth/console-session.js';
import type { CorpService } from '../../domain/corps/corp.service.js';
import type { Corp } from '../../domain/corps/corp.types.js';
import type { PersonalData } from '../../domain/customers/personal-data.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';

/** What the admin API routes need; built once in src/main.ts. */
export interface ApiDeps {
  config: AppConfig;
  clock: Clock;
  /** The web process's logger; handlers add their own fields. */
  logger: Logger;
  queues: Queues;
  pd: PersonalData;
  /** Producer connection: per-token rate limiting. */
  redis: Redis;
  /** Corp writes (secrets sealed; never returned). */
  corpService: CorpService;
  /**
   * The web process's corp cache (memory, kept current by corp change notices): hot routes such as
   * lead intake read a corp's kind, zone and working hours here instead of MongoDB on every call.
   */
  corps?: { get(corpId: string): Corp | undefined };
  /** Console sessions (docs/console.md): when given, the session cookie is accepted besides bearer tokens. */
  sessions?: ConsoleSessions;
  /**
   * JS-SDK tickets for the sidebar (docs/wecom.md §10.2), from the WeCom client's Redis cache;
   * absent in processes that sign nothing (the sidebar's config route then answers 503).
   */
  jsapi?: { ticket(corpId: string, kind: 'corp' | 'agent'): Promise<{ ticket: string; agentId: number }> };
}

/** The parsed JSON body (@koa/bodyparser), unknown until a schema parses it. */
export function bodyOf(ctx: Context): unknown {
  return (ctx.request as unknown as { body?: unknown }).body;
}
