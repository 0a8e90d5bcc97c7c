import type { Job, JobType } from 'bullmq';
import { openInboundXml } from '../../ingest/inbound-seal.js';
import type { DataCipher } from '../../infra/data-crypto.js';
import type { Queues } from '../../queues/queue-factory.js';
import { QueueName } from '../../queues/queue-names.js';

const SCANNED_QUEUES = [
  QueueName.wecomInbound,
  QueueName.wecomWelcome,
  QueueName.domainEvents,
  QueueName.scheduled,
] as const;
const STATES: JobType[] = ['waiting', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];
const PAGE = 500;

/**
 * Removes a customer's jobs from Redis (docs/data-inventory.md): every job of the customer-facing queues whose
 * data names one of `needles` (the customer id, their external_userid, their schedule ids), in any
 * state but active (an active job holds its lock; it finishes and expires with the queue's
 * retention). Inbound payloads are sealed (inbound-seal.ts), so they are opened with `cipher` to
 * be searched. Returns how many were removed.
 */
export async function purgeJobsMentioning(
  queues: Queues,
  cipher: DataCipher | undefined,
  needles: readonly string[],
): Promise<number> {
  const wanted = needles.filter((n) => n.length >= 6);
  if (wanted.length === 0) return 0;
  let removed = 0;
  // Every partition of the inbound queue (INBOUND_PARTITIONS, docs/scale.md).
  for (const [name, queue] of SCANNED_QUEUES.flatMap((n) => queues.partitions(n).map((q) => [n, q] as const))) {
    const matches: Job[] = [];
    for (const state of STATES) {
      for (let start = 0; ; start += PAGE) {
        const page = await queue.getJobs([state], start, start + PAGE - 1, true);
        for (const job of page) {
          const text = `${job.id ?? ''} ${JSON.stringify(job.data ?? null)} ${JSON.stringify(job.returnvalue ?? null)}${name === QueueName.wecomInbound ? ` ${revealInbound(cipher, job)}` : ''}`;
          if (wanted.some((n) => text.includes(n))) matches.push(job);
        }
        if (page.length < PAGE) break;
      }
    }
    for (const job of matches) {
      try {
        await job.remove();
        removed++;
      } catch {
        // Active (locked) meanwhile: it completes and expires with the queue's retention.
      }
    }
  }
  return removed;
}

/** The opened XML of a sealed inbound job ('' when there is none or it does not open). */
function revealInbound(cipher: DataCipher | undefined, job: Job): string {
  const data = job.data as { xmlSealed?: unknown } | undefined;
  if (!cipher || typeof data?.xmlSealed !== 'string') return '';
  try {
    return openInboundXml(cipher, String(job.id), { xmlSealed: data.xmlSealed });
  } catch {
    return '';
  }
}
