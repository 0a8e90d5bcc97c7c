import type { Queues } from '../queues/queue-factory.js';
import { QueueName } from '../queues/queue-names.js';
import { WELCOME_JOB_NAME, welcomeJobFor, welcomeJobId } from '../queues/welcome.producer.js';
import type { DedupWrite } from './dedup-job-batcher.js';
import { DedupJobWriter } from './dedup-job-writer.js';
import { readElementText } from './envelope.js';

/** Cheap pre-check: only add events carry a WelcomeCode; everything else costs one indexOf. */
const WELCOME_MARK = '<WelcomeCode>';

/**
 * The welcome's fast lane (docs/architecture.md §4): the 20 s welcome window starts at the add event,
 * so the `wecom-welcome` job is enqueued by the web process as the callback arrives, not by the
 * worker once the `wecom-inbound` backlog reaches the event (a backlog of refetches after a deploy
 * or at a campaign's peak would otherwise eat the window). Only the six fields the job needs are
 * read (no XML tree). The InboundProducer writes the welcome job just before the callback's inbound
 * job, in the same batched script call (DedupJobBatcher.submitAfter), and marks the inbound job
 * `welcomeEnqueued`: the worker's add handler then skips its own enqueue. When the call fails the
 * callback is spooled without the mark, and the worker enqueues the same job (the job id comes
 * from the single-use code) when it processes the inbound job.
 */
export class WelcomeLane {
  private writer: DedupJobWriter | undefined;

  constructor(private readonly deps: { queues: Queues }) {}

  /** The welcome job an add event's XML calls for, ready to write; undefined for any other event. */
  writeFor(corpId: string, xml: string, receivedAt: number): DedupWrite | undefined {
    if (!xml.includes(WELCOME_MARK)) return undefined;
    const job = welcomeJobFor(
      corpId,
      {
        changeType: readElementText(xml, 'ChangeType'),
        userId: readElementText(xml, 'UserID'),
        externalUserId: readElementText(xml, 'ExternalUserID'),
        state: readElementText(xml, 'State'),
        welcomeCode: readElementText(xml, 'WelcomeCode'),
        createTime: Number(readElementText(xml, 'CreateTime') ?? 0) || 0,
      },
      receivedAt,
    );
    if (!job) return undefined;
    // No de-duplication mark: like the worker's enqueueWelcome, the code-derived job id alone
    // de-duplicates, for as long as the job is kept (a day), longer than a mark would live. The
    // job is welcomeJobFor's, valid by construction, so welcomeJob's schema parse is skipped.
    const queue = this.deps.queues.get(QueueName.wecomWelcome);
    if (this.writer?.queue !== queue) this.writer = new DedupJobWriter(queue, WELCOME_JOB_NAME);
    return { writer: this.writer, job: { id: welcomeJobId(job.corpId, job.welcomeCode), data: job } };
  }
}
