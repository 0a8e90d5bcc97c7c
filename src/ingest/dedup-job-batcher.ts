import type { DedupJobGroup, DedupJobWriter, InboundJobInput } from './dedup-job-writer.js';
import { withTimeout } from '../infra/timeout.js';
import { luaJobWriter, type JobWriter } from './job-writer.js';
import { MicroBatcher } from './micro-batcher.js';

interface QueuedJob {
  writer: DedupJobWriter;
  job: InboundJobInput;
}

/**
 * One MicroBatcher for every queue the callback path writes to: an add event's `wecom-inbound`
 * job (InboundProducer) and its `wecom-welcome` job (WelcomeLane) are submitted in the same turn
 * and go to Redis in the same script call (one EVALSHA per batch instead of one per queue; the
 * ingest bench sends only add events, so this halves its script calls). Each submitter still
 * awaits the outcome of the whole call, so nothing is acknowledged before it is durable.
 *
 * A call Redis has not answered within `timeoutMs` (CALLBACK_ENQUEUE_TIMEOUT_MS) fails for every
 * job in it, so callers spool instead of waiting: one timer per call rather than one per job. A
 * late answer to a call that timed out is harmless: the spool relay's re-add meets the same
 * de-duplication mark.
 */
export class DedupJobBatcher {
  private readonly batcher: MicroBatcher<QueuedJob>;
  /** What writes each batch (job-writer.ts): the Lua script, or BullMQ's addBulk. */
  readonly jobWriter: JobWriter;

  /**
   * @param opts.timeoutMs how long a call may take before its jobs count as not taken (default 1 s).
   * @param opts.maxBatch jobs per call across queues (an add event brings two). Small on purpose: a
   * call goes out as soon as this many are waiting, so Redis runs one batch while this process
   * verifies the next; with one call per event-loop turn the web process sat idle waiting for
   * Redis (the measurements are in docs/benchmarks.md, "Callback job batch size").
   */
  constructor(opts: { timeoutMs?: number; maxBatch?: number; jobWriter?: JobWriter } = {}) {
    const timeoutMs = opts.timeoutMs ?? 1000;
    const jobWriter = (this.jobWriter = opts.jobWriter ?? luaJobWriter);
    this.batcher = new MicroBatcher(
      (items) => withTimeout(write(items, jobWriter), timeoutMs, `Redis did not take the jobs within ${timeoutMs} ms`),
      opts.maxBatch ?? 32,
    );
  }

  /** Resolves once the job exists in Redis (added, or already known); rejects if the call failed or timed out. */
  submit(writer: DedupJobWriter, job: InboundJobInput): Promise<void> {
    return this.batcher.submit({ writer, job });
  }
}

/** Groups a batch by queue, in order of first appearance (job order within a queue is kept). */
function write(items: QueuedJob[], jobWriter: JobWriter): Promise<void> {
  const groups = new Map<DedupJobWriter, DedupJobGroup>();
  for (const { writer, job } of items) {
    const group = groups.get(writer);
    if (group) group.jobs.push(job);
    else groups.set(writer, { writer, jobs: [job] });
  }
  return jobWriter.write([...groups.values()]);
}
