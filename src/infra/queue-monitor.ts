import type { Queue } from 'bullmq';
import type { Alerter } from './alerts.js';
import { sampleQueue } from './metrics.js';
import { queueDisplayName } from '../queues/queue-names.js';

/**
 * Alerts when the oldest waiting job of a queue is older than `thresholdS` (nobody is consuming,
 * or consumers are far behind). Runs in the web process too: it is the process that stays up
 * when workers are gone.
 */
export function startQueueAgeMonitor(
  queues: () => Queue[],
  alerter: Alerter,
  thresholdS: number,
  intervalMs = 30_000,
  nowMs: () => number = Date.now,
): () => void {
  const timer = setInterval(() => {
    void Promise.all(
      queues().map(async (queue) => {
        const sample = await sampleQueue(queue, nowMs());
        if (sample && sample.oldestAgeS > thresholdS) {
          alerter.raise(
            'queue_age',
            queueDisplayName(queue.name),
            `queue ${queueDisplayName(queue.name)}: the oldest waiting job is ${Math.round(sample.oldestAgeS)} s old (threshold ${thresholdS} s); are workers running?`,
            { waiting: sample.waiting },
          );
        }
      }),
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
