import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger.js';
import type { Spool } from '../infra/spool.js';
import type { DedupWrite } from './dedup-job-batcher.js';
import type { InboundJobData, InboundProducer } from './inbound.producer.js';

/** A spooled callback: the de-duplication key and the job it becomes. */
export interface SpoolEntry {
  key: string;
  data: InboundJobData;
}

export type AcceptOutcome = 'accepted' | 'spooled' | 'dropped';

export interface AcceptorDeps {
  producer: InboundProducer;
  spool: Spool<SpoolEntry>;
  /** The producer connection: when it is not ready the spool is used without waiting. */
  redis: Redis;
  logger: Logger;
}

/**
 * Makes a verified callback durable before it is acknowledged (docs/architecture.md §3 steps 7 and 9): the
 * queue when Redis takes the job (the producer's batcher gives up after
 * CALLBACK_ENQUEUE_TIMEOUT_MS), else the local spool (fsync'd). `dropped`
 * means neither worked and the caller must close the connection without answering, so WeCom
 * retries (docs/wecom.md §1.6). A late success of a timed-out add is harmless: the spool relay's
 * re-add hits the same de-duplication mark. An add event's welcome job goes with the inbound job
 * (InboundProducer.enqueue); a spooled callback carries no welcome mark, so the worker enqueues
 * its welcome.
 */
export class InboundAcceptor {
  constructor(private readonly deps: AcceptorDeps) {}

  async accept(key: string, data: InboundJobData, welcome?: DedupWrite): Promise<AcceptOutcome> {
    const { producer, redis, logger } = this.deps;
    if (redis.status === 'ready') {
      try {
        await producer.enqueue(key, data, welcome);
        return 'accepted';
      } catch (err) {
        logger.warn(
          { corpId: data.corpId, jobId: key, err: (err as Error).message },
          'queue did not take the callback; spooling it',
        );
      }
    }
    try {
      await this.deps.spool.append({ key, data });
      return 'spooled';
    } catch (err) {
      logger.error(
        { alert: true, corpId: data.corpId, jobId: key, err: (err as Error).message },
        'callback could neither be queued nor spooled; closing the connection so WeCom retries',
      );
      return 'dropped';
    }
  }
}
