import type { Queues } from './queue-factory.js';
import type { QueueName } from './queue-names.js';

/**
 * A `/readyz` check: every named queue takes jobs now, else which one does not and why
 * (docs/reliability.md, "Readiness"). A handle whose initialisation failed is replaced by the
 * check itself, so the next check can pass once Redis answers. A partitioned queue is checked
 * in every partition.
 */
export async function queueReadiness(
  queues: Queues,
  names: readonly QueueName[],
  timeoutMs = 1000,
): Promise<{ ok: boolean; detail: Record<string, unknown> }> {
  const states = await queues.check(queues.handleNames(names), timeoutMs);
  const failing = states.filter((s) => !s.ok).map((s) => ({ queue: s.queue, reason: s.reason }));
  return {
    ok: failing.length === 0,
    detail: { replaced: queues.replaced, ...(failing.length > 0 ? { failing } : {}) },
  };
}
