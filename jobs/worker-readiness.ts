import type { OutboxRelay } from '../src/domain/events/outbox-relay.js';
export { queueReadiness } from '../src/queues/queue-readiness.js';

/** Outbox lag (s) above which the worker alerts and is not ready (docs/reliability.md, "Readiness"). */
export const OUTBOX_LAG_READY_S = 60;

type CheckOutcome = { ok: boolean; detail: Record<string, unknown> };

/** The worker's `outbox` readiness check: the oldest unrelayed domain event is younger than the threshold. */
export function outboxReadiness(relay: Pick<OutboxRelay, 'status'>): CheckOutcome {
  const { lag, lastError, lagAlertS } = relay.status();
  const lagS = Math.round(lag?.oldestAgeS ?? 0);
  const ok = lagS <= lagAlertS;
  return {
    ok,
    detail: {
      pending: lag?.pending ?? 0,
      lagS,
      thresholdS: lagAlertS,
      ...(!ok ? { reason: `oldest unrelayed domain event is ${lagS} s old${lastError ? `: ${lastError}` : ''}` } : {}),
    },
  };
}
