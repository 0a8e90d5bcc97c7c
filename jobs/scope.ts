import {
  corpScope,
  type CorpScope,
  type ScopeOptions,
  type ScopeRefusal,
  type ScopeResult,
} from '../src/domain/corps/corp-scope.js';
import type { Logger } from '../src/infra/logger.js';
import type { WorkerContext } from './context.js';

/** The corp scope of one job in this worker (docs/architecture.md §11, "One corp scope"). */
export function scopeFor(ctx: WorkerContext, corpId: string, log: Logger, opts?: ScopeOptions): ScopeResult {
  return corpScope(ctx.corps?.get(corpId), ctx, log, opts);
}

/** A job for a corp this worker does not know (yet): retried with backoff, then kept as failed. */
export class CorpNotLoadedError extends Error {
  constructor(corpId: string) {
    super(`corp ${corpId} is not loaded in this worker; the job is retried`);
    this.name = 'CorpNotLoadedError';
  }
}

/** What a job for a car-maker or disabled corp records as its result instead of running. */
export interface Skipped {
  skipped: Exclude<ScopeRefusal, 'unknown_corp'>;
}

/**
 * The scope a job for one corp runs in, or the `Skipped` result it completes with; an unknown corp
 * throws `CorpNotLoadedError` (the policy of corp-scope.ts).
 */
export function jobScope(ctx: WorkerContext, corpId: string, log: Logger, opts?: ScopeOptions): CorpScope | Skipped {
  const result = scopeFor(ctx, corpId, log, opts);
  if (result.ok) return result.scope;
  if (result.refused === 'unknown_corp') throw new CorpNotLoadedError(corpId);
  log.info({ corpId, reason: result.refused }, 'job skipped: the corp runs no background work');
  return { skipped: result.refused };
}

export const isSkipped = (s: CorpScope | Skipped): s is Skipped => 'skipped' in s;

/**
 * Runs one corp's job in its scope: `fn(scope)`, or the `Skipped` result when the corp runs no
 * background work; an unknown corp throws `CorpNotLoadedError` (see `jobScope`).
 */
export async function withScope<T>(
  ctx: WorkerContext,
  corpId: string,
  log: Logger,
  fn: (scope: CorpScope) => Promise<T> | T,
  opts?: ScopeOptions,
): Promise<T | Skipped> {
  const scope = jobScope(ctx, corpId, log, opts);
  return isSkipped(scope) ? scope : fn(scope);
}

/** The scopes of the given corps that run background work (ticks over all corps skip the others). */
export function activeScopes(ctx: WorkerContext, corpIds: readonly string[], log: Logger): CorpScope[] {
  return corpIds.map((id) => scopeFor(ctx, id, log)).flatMap((r) => (r.ok ? [r.scope] : []));
}
