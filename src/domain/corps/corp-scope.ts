import type { Redis } from 'ioredis';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import type { CorpApi } from '../../wecom/corp-api.js';
import type { CustomerDeps } from '../customers/customer-deps.js';
import type { PersonalData } from '../customers/personal-data.js';
import type { EngineDeps } from '../rules/engine/engine-deps.js';
import type { TaskDeps } from '../tasks/task-deps.js';
import { taskSettingsOf } from '../tasks/task-settings.js';
import { tuningWith, type Tuning } from '../tuning.js';
import type { CorpReads } from './corp-read-cache.js';
import type { Corp } from './corp.types.js';

/**
 * Why a corp's background work does not run (docs/architecture.md §11, "One corp scope"):
 * - `unknown_corp`: this process does not know the corp (yet: its corp cache may lag a new corp);
 *   a job for the corp is retried with backoff, then kept as failed for replay; a callback or a
 *   domain event of it runs no feature handler (it is only recorded).
 * - `oem_corp`: the car maker's own corp has no customers, tasks or rules; the job completes as
 *   skipped.
 * - `disabled_corp`: the operators switched the corp off; queued work completes as skipped (with
 *   the reason in its result), so switching it on again does not replay stale events.
 */
export type ScopeRefusal = 'unknown_corp' | 'oem_corp' | 'disabled_corp';

/** What every scope is built from: the process's shared services. */
export interface ScopeParts {
  config: { redis: { queuePrefix: string }; publicBaseUrl: string; defaultTimezone: string };
  clock: Clock;
  queues: Queues;
  /** Producer connection: locks, counters and idempotency marks. */
  redis: Redis;
  pd: PersonalData;
  wecom: { forCorp(creds: { corpId: string; secret: string; agentId: number }): CorpApi };
  /** Timing settings over the production defaults (src/domain/tuning.ts); tests pass shorter ones. */
  tuning?: Partial<Tuning>;
  /** The worker's per-corp cache of tag groups and rules (docs/scale.md §4); absent elsewhere. */
  reads?: CorpReads;
}

/**
 * One dealer corp's work, bound once per job: the corp, its time zone, its WeCom API, and each
 * feature's dependencies as a slice (`customers()`, `engine()`, `tasks()`), all with the job's
 * logger. A slice is cheap; the WeCom API is bound once, on first use.
 */
export interface CorpScope {
  readonly corp: Corp;
  readonly corpId: string;
  readonly timeZone: string;
  readonly api: CorpApi;
  readonly logger: Logger;
  /** A slice may log through another logger than the scope's (a handler's child logger). */
  customers(log?: Logger): CustomerDeps;
  engine(log?: Logger): EngineDeps;
  tasks(log?: Logger): TaskDeps;
}

export type ScopeResult = { ok: true; scope: CorpScope } | { ok: false; refused: ScopeRefusal };

export interface ScopeOptions {
  /**
   * Privacy duties (the retention sweep's erasure, cancelling an opted-out customer's pending
   * mass-sends) go on while a corp is disabled: switching a corp off must not keep personal data
   * longer or let a send the customer refused go out.
   */
  privacyDuty?: boolean;
}

/** The one policy: which corps run background work at all. */
export function refusalOf(corp: Corp | undefined, opts: ScopeOptions = {}): ScopeRefusal | undefined {
  if (!corp) return 'unknown_corp';
  if (corp.kind === 'oem') return 'oem_corp';
  if (!corp.enabled && !opts.privacyDuty) return 'disabled_corp';
  return undefined;
}

/** The scope of `corp` for one job or callback, or why there is none. */
export function corpScope(
  corp: Corp | undefined,
  parts: ScopeParts,
  logger: Logger,
  opts: ScopeOptions = {},
): ScopeResult {
  const refused = refusalOf(corp, opts);
  if (refused || !corp) return { ok: false, refused: refused ?? 'unknown_corp' };
  const timeZone = corp.timezone || parts.config.defaultTimezone;
  const tuning = tuningWith(parts.tuning);
  let api: CorpApi | undefined;
  const scope: CorpScope = {
    corp,
    corpId: corp.corpId,
    timeZone,
    logger,
    get api() {
      api ??= parts.wecom.forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: corp.agentId });
      return api;
    },
    customers: (log = logger) => ({
      corpId: corp.corpId,
      api: scope.api,
      pd: parts.pd,
      clock: parts.clock,
      queues: parts.queues,
      logger: log,
      reads: parts.reads,
    }),
    engine: (log = logger) => ({
      corpId: corp.corpId,
      timeZone,
      quietHours: taskSettingsOf(corp).quietHours,
      api: scope.api,
      clock: parts.clock,
      queues: parts.queues,
      logger: log,
      pd: parts.pd,
      publicBaseUrl: parts.config.publicBaseUrl,
      batchWindowMs: tuning.messageBatchWindowMs,
      pollDelayMs: tuning.messagePollDelayMs,
      reads: parts.reads,
    }),
    tasks: (log = logger) => ({
      corpId: corp.corpId,
      timeZone,
      settings: taskSettingsOf(corp),
      api: scope.api,
      clock: parts.clock,
      queues: parts.queues,
      redis: parts.redis,
      keyPrefix: parts.config.redis.queuePrefix,
      logger: log,
      pd: parts.pd,
      publicBaseUrl: parts.config.publicBaseUrl,
      tuning,
    }),
  };
  return { ok: true, scope };
}
