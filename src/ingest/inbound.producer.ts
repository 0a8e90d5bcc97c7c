import type { Queues } from '../queues/queue-factory.js';
import { callbackReceivedJob } from '../queues/jobs/inbound.jobs.js';
import { DedupJobBatcher, type DedupWrite } from './dedup-job-batcher.js';
import { DedupJobWriter } from './dedup-job-writer.js';

/** The `wecom-inbound` job: what WeCom sent us, and when. Built by sealInboundJob. */
export interface InboundJobData {
  corpId: string;
  /** Receive time, epoch ms. */
  receivedAt: number;
  /**
   * The decrypted event or message XML, sealed with the data key and bound to the job id
   * (inbound-seal.ts): personal data never sits in Redis in clear text.
   */
  xmlSealed: string;
  /**
   * The event's welcome job was stored before this job (DedupJobBatcher.submitAfter), so the
   * worker's add handler does not enqueue it again (src/domain/customers/contact-handlers.ts).
   * Set by `enqueue` only; absent on spooled and replayed jobs.
   */
  welcomeEnqueued?: true;
}

export const INBOUND_JOB_NAME = callbackReceivedJob.name;

/**
 * De-duplicates and enqueues in one Redis round trip (docs/architecture.md §3 step 7): the mark
 * `SET <prefix>:wecom-inbound:de:<key> <key> PX ttl NX` and the job add run in the same Lua
 * script (inbound-add.script.ts, equivalent to BullMQ's add with throttle-mode `deduplication`),
 * so a retry, a replayed spool entry or a second web instance can never create a second job for
 * the same key while the mark lives. The job id is the key too, so even an expired mark cannot
 * duplicate a job that still exists.
 *
 * Concurrent enqueues of one event-loop turn go out together in script calls (DedupJobBatcher,
 * shared with the welcome lane so an add event's two jobs travel together): one write and one
 * atomic script per batch (at most 32 jobs) instead of one per callback. `enqueue` resolves only
 * once Redis has answered for the whole batch, and rejects for all of it if the call failed or
 * timed out (CALLBACK_ENQUEUE_TIMEOUT_MS): the callers then spool, and the spool relay's re-add
 * is absorbed by the same de-duplication.
 */
export class InboundProducer {
  /** One writer per inbound partition queue, keyed by the handle it was built from. */
  private readonly writers = new Map<string, DedupJobWriter>();

  constructor(
    private readonly queues: Queues,
    private readonly dedupTtlMs: number,
    private readonly batcher = new DedupJobBatcher(),
  ) {}

  /**
   * Resolves once the job exists in Redis (newly added, or already there: a duplicate). The job
   * goes to the corp's inbound partition (docs/scale.md, "Inbound partitions"), its
   * de-duplication mark with it, so a retry of the callback meets the mark in the same queue.
   * With `welcome` (the add event's welcome job, welcome-lane.ts), that job is written first (an
   * earlier section of the same script call, or an earlier call: DedupJobBatcher.submitAfter) and
   * the inbound job, marked `welcomeEnqueued`, is stored only after it; when the call fails the
   * caller spools `data`, unmarked.
   */
  enqueue(key: string, data: InboundJobData, welcome?: DedupWrite): Promise<void> {
    const queue = this.queues.inboundFor(data.corpId);
    let writer = this.writers.get(queue.name);
    // Rebuilt when Queues replaced a broken handle (docs/reliability.md, "Queue handles that heal").
    if (writer?.queue !== queue) {
      writer = new DedupJobWriter(queue, INBOUND_JOB_NAME, this.dedupTtlMs);
      this.writers.set(queue.name, writer);
    }
    if (!welcome) return this.batcher.submit(writer, { id: key, data });
    const marked: InboundJobData = { ...data, welcomeEnqueued: true };
    return this.batcher.submitAfter(welcome, writer, { id: key, data: marked });
  }
}
