import { UnrecoverableError } from 'bullmq';
import { WecomApiError } from './errors.js';
import { LocalThrottleError } from './rate-limit.js';

/**
 * How a job's failure is handled (docs/architecture.md §4, "Failures"), decided once in the worker
 * runner for every processor:
 * - `permanent`: a WeCom error no retry can fix (docs/wecom.md §4: 48002, 60020, 84061 ... every
 *   code that is not transient, rate-limited, token or not-ready) or an `UnrecoverableError` a
 *   handler threw → the job fails at once (`error` is an UnrecoverableError).
 * - `rate_limited`: WeCom's rate limits (45009 ...) or the client's own limiter → the queue pauses
 *   for `delayMs` and the job goes back to waiting without using up an attempt.
 * - `transient`: everything else → retried with the queue's backoff.
 */
export type JobFailure =
  | { kind: 'permanent'; error: Error }
  | { kind: 'rate_limited'; delayMs: number; error: Error }
  | { kind: 'transient'; error: Error };

export function classifyJobFailure(err: unknown): JobFailure {
  const error = err instanceof Error ? err : new Error(String(err));
  if (err instanceof UnrecoverableError) return { kind: 'permanent', error };
  const delayMs = rateLimitDelayMs(err);
  if (delayMs !== undefined) return { kind: 'rate_limited', delayMs, error };
  if (err instanceof WecomApiError && !err.retryable) {
    const wrapped = new UnrecoverableError(`${err.message} [errcode ${err.errcode}]`);
    (wrapped as UnrecoverableError & { cause?: unknown }).cause = err;
    return { kind: 'permanent', error: wrapped };
  }
  return { kind: 'transient', error };
}

/**
 * How long a queue should pause after a rate-limited failure (docs/wecom.md §4/§5: 45009 blocks the
 * minute window; 45033/45035/45036 clear quickly), or undefined when the error is not a rate limit.
 */
export function rateLimitDelayMs(err: unknown): number | undefined {
  if (err instanceof LocalThrottleError) return Math.max(1000, err.waitMs);
  if (!(err instanceof WecomApiError) || !err.rateLimited) return undefined;
  if (err.errcode === 45009) return 60_000;
  return 2000 + Math.floor(Math.random() * 1000);
}
