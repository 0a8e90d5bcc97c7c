import { UnrecoverableError } from 'bullmq';
import { WecomApiError, WecomTransportError } from './errors.js';
import { LocalThrottleError } from './rate-limit.js';

/**
 * Maps a WeCom client failure to what a BullMQ processor should throw (docs/architecture.md §13: permanent →
 * UnrecoverableError, transient → rethrow for backoff). Rate limits are transient here too; use
 * `rateLimitDelayMs` to pause the worker (`worker.rateLimit(ms)` + `Worker.RateLimitError()`).
 */
export function toJobError(err: unknown): Error {
  if (err instanceof WecomApiError && !err.retryable) {
    const wrapped = new UnrecoverableError(`${err.message} [errcode ${err.errcode}]`);
    (wrapped as UnrecoverableError & { cause?: unknown }).cause = err;
    return wrapped;
  }
  if (err instanceof Error) return err;
  return new Error(String(err));
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

/** Whether the failure is worth retrying later at all. */
export function isTransientWecomFailure(err: unknown): boolean {
  return err instanceof WecomTransportError || err instanceof LocalThrottleError || (err instanceof WecomApiError && err.retryable);
}
