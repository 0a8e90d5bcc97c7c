import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger.js';
import type { Queues } from '../queues/queue-factory.js';
import { QueueName } from '../queues/queue-names.js';
import { WELCOME_JOB_NAME, welcomeJobFor, welcomeJobId, type WelcomeJob } from '../queues/welcome.producer.js';
import { DedupJobBatcher } from './dedup-job-batcher.js';
import { DedupJobWriter } from './dedup-job-writer.js';
import { readElementText } from './envelope.js';

/** Cheap pre-check: only add events carry a WelcomeCode; everything else costs one indexOf. */
const WELCOME_MARK = '<WelcomeCode>';

export type WelcomeLaneOutcome = 'none' | 'enqueued' | 'failed';

/**
 * The welcome's fast lane (docs/architecture.md §4): the 20 s welcome window starts at the add event,
 * so the `wecom-welcome` job is enqueued by the web process as the callback arrives, not by the
 * worker once the `wecom-inbound` backlog reaches the event (a backlog of refetches after a deploy
 * or at a campaign's peak would otherwise eat the window). Only the six fields the job needs are
 * read (no XML tree), and the welcome jobs of one event-loop turn go to Redis in batched script
 * calls, together with the inbound jobs when the batcher is shared with the InboundProducer
 * (ingest-setup).
 * Failure is not fatal: the worker's add handler enqueues the same job (the job id comes from the
 * single-use code) when it processes the inbound job.
 */
export class WelcomeLane {
  private readonly batcher: DedupJobBatcher;
  private writer: DedupJobWriter | undefined;

  constructor(private readonly deps: { queues: Queues; redis: Redis; logger: Logger; batcher?: DedupJobBatcher }) {
    this.batcher = deps.batcher ?? new DedupJobBatcher();
  }

  async offer(corpId: string, xml: string, receivedAt: number): Promise<WelcomeLaneOutcome> {
    if (!xml.includes(WELCOME_MARK)) return 'none';
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
    if (!job) return 'none';
    if (this.deps.redis.status !== 'ready') return 'failed';
    try {
      await this.submit(job); // fails once the batcher's timeout (CALLBACK_ENQUEUE_TIMEOUT_MS) passes
      return 'enqueued';
    } catch (err) {
      this.deps.logger.warn(
        { corpId, err: (err as Error).message },
        'welcome job not enqueued from the callback; the worker enqueues it with the inbound job',
      );
      return 'failed';
    }
  }

  /**
   * Batched with the inbound jobs (BullMQ's addBulk cost ~35 µs per callback in the ingest bench).
   * The job is welcomeJobFor's, valid by construction, so the schema parse of welcomeJobSpec is skipped.
   */
  private submit(job: WelcomeJob): Promise<void> {
    // No de-duplication mark: like the worker's enqueueWelcome, the code-derived job id alone
    // de-duplicates, for as long as the job is kept (a day), longer than a mark would live.
    const queue = this.deps.queues.get(QueueName.wecomWelcome);
    if (this.writer?.queue !== queue) this.writer = new DedupJobWriter(queue, WELCOME_JOB_NAME);
    return this.batcher.submit(this.writer, { id: welcomeJobId(job.corpId, job.welcomeCode), data: job });
  }
}
