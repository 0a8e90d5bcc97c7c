import { describe, expect, it } from 'vitest';
import { UnrecoverableError } from 'bullmq';
import { classifyErrcode, isRetryableWecomError, WecomApiError, WecomTransportError } from './errors.js';
import { classifyJobFailure, rateLimitDelayMs } from './job-errors.js';
import { backoffDelay } from './backoff.js';

describe('WeCom error classification (docs/wecom.md §4)', () => {
  it.each([-1, 6000, 45009, 45033, 45035, 45036, 41096, 41063])('retries %i', (code) => {
    expect(new WecomApiError(code, 'x', 'e').retryable).toBe(true);
  });
  it.each([84061, 40096, 41050, 41051, 48002, 60011, 60140, 40001, 40014, 42001, 123456])(
    'never retries %i with backoff',
    (code) => {
      expect(new WecomApiError(code, 'x', 'e').retryable).toBe(false);
    },
  );
  it('marks token errors for a refresh', () => {
    expect(classifyErrcode(40014).kind).toBe('token');
    expect(classifyErrcode(42001).kind).toBe('token');
  });
  it('maps failures to BullMQ errors', () => {
    const toJobError = (err: unknown) => classifyJobFailure(err).error;
    const permanent = toJobError(new WecomApiError(84061, 'not external contact', 'externalcontact/mark_tag'));
    expect(permanent).toBeInstanceOf(UnrecoverableError);
    const transient = new WecomApiError(-1, 'busy', 'user/get');
    expect(toJobError(transient)).toBe(transient);
    expect(rateLimitDelayMs(new WecomApiError(45009, 'freq', 'user/get'))).toBe(60_000);
    expect(rateLimitDelayMs(new WecomApiError(45033, 'conc', 'x'))).toBeGreaterThanOrEqual(2000);
    expect(rateLimitDelayMs(transient)).toBeUndefined();
    expect(isRetryableWecomError(new WecomTransportError('timeout', 'user/get', 'slow'))).toBe(true);
  });
  it('backs off exponentially with jitter, capped', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(0, policy, () => 0)).toBe(50);
    expect(backoffDelay(2, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
  });
});
