import type { OutboxRelay } from '../src/domain/events/outbox-relay.js';
import type { Queues } from '../src/queues/queue-factory.js';
import type { QueueName } from '../src/queues/queue-names.js';

/** Outbox lag (s) above which the worker alerts and is not ready (docs/reliability.md, "Readiness"). */
export const OUTBOX_LAG_READY_S = 60;

type CheckOutcome = { ok: boolean; detail: Record<string, unknown> };

/**
 * The worker's `queues` readiness check: every queue it enqueues to takes jobs now. A handle
 * whose initialisation failed is replaced by the check itself, so the next check can pass.
 */
export async function queueReadiness(queues: Queues, names: readonly QueueName[], timeoutMs = 1000): Promise<CheckOutcome> {
  const states = await queues.check(names, timeoutMs);
  const failing = states.filter((s) => !s.ok).map((s) => ({ queue: s.queue, reason: s.reason }));
  return { ok: failing.length === 0, detail: { replaced: queues.replaced, ...(failing.length > 0 ? { failing } : {}) } };
}

/** The worker's `outbox` readiness check: the oldest unrelayed domain event is younger than the threshold. */
export function outboxReadiness(relay: Pick<OutboxRelay, 'status'>): CheckOutcome {
  const { lag, lastError, lagAlertS } = relay.status();
  const lagS = Math.round(lag?.oldestAgeS ?? 0);
  const ok = lagS <= lagAlertS;
  return { ok, detail: { pending: lag?.pending ?? 0, lagS, thresholdS: lagAlertS, ...(!ok ? { reason: `oldest unrelayed domain event is ${lagS} s old${lastError ? `: ${lastError}` : ''}` } : {}) } };
}
