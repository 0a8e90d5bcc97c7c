import type { DedupJobGroup, DedupJobWriter, InboundJobInput } from './dedup-job-writer.js';
import { withTimeout } from '../infra/timeout.js';
import { luaJobWriter, type JobWriter } from './job-writer.js';
import { MicroBatcher } from './micro-batcher.js';

/** One job for one queue's writer. */
export interface DedupWrite {
  writer: DedupJobWriter;
  job: InboundJobInput;
}

interface QueuedJob extends DedupWrite {
  /** Written before `job`, in the leading part of the call (submitAfter). */
  lead?: DedupWrite;
}

/**
 * One MicroBatcher for every queue the callback path writes to: an add event's `wecom-welcome`
 * job (WelcomeLane) and its `wecom-inbound` job (InboundProducer) are submitted together and go
 * to Redis in the same script call (one EVALSHA per batch instead of one per queue; the ingest
 * bench sends only add events, so this halves its script calls). Each submitter still awaits the
 * outcome of the whole call, so nothing is acknowledged before it is durable.
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
      (item) => (item.lead ? 2 : 1),
    );
  }

  /** Resolves once the job exists in Redis (added, or already known); rejects if the call failed or timed out. */
  submit(writer: DedupJobWriter, job: InboundJobInput): Promise<void> {
    return this.batcher.submit({ writer, job });
  }

  /**
   * Like `submit`, with `lead` written first: `job` is stored only if `lead` was stored (added,
   * or already there) before it, in the same script call (an error in the script stops it before
   * the later jobs) or in an earlier call (job-writer.ts, `JobWriter`). So `job`'s data may say
   * that `lead` exists (the inbound job's `welcomeEnqueued`). Resolves or rejects for both.
   */
  submitAfter(lead: DedupWrite, writer: DedupJobWriter, job: InboundJobInput): Promise<void> {
    return this.batcher.submit({ writer, job, lead });
  }
}

/**
 * Groups a batch by queue, the leading groups (the `lead` jobs) first, then the others, each in
 * order of first appearance (job order within a queue is kept).
 */
function write(items: QueuedJob[], jobWriter: JobWriter): Promise<void> {
  const groups = new Map<DedupJobWriter, DedupJobGroup>();
  const add = ({ writer, job }: DedupWrite, leading: boolean) => {
    const group = groups.get(writer);
    if (group) group.jobs.push(job);
    else groups.set(writer, { writer, jobs: [job], ...(leading ? { leading } : {}) });
  };
  for (const item of items) if (item.lead) add(item.lead, true);
  for (const item of items) add(item, false);
  return jobWriter.write([...groups.values()]);
}
