import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger.js';
import { withTimeout } from '../infra/timeout.js';
import type { Queues } from '../queues/queue-factory.js';
import { enqueueWelcome, welcomeJobFor } from '../queues/welcome.producer.js';
import { EventParseError, parseEvent } from '../wecom/events.js';

/** Cheap pre-check: only add events carry a WelcomeCode; everything else skips the parse. */
const WELCOME_MARK = '<WelcomeCode>';

export type WelcomeLaneOutcome = 'none' | 'enqueued' | 'failed';

/**
 * The welcome's fast lane (design §4, issue 7): the 20 s welcome window starts at the add event,
 * so the `wecom-welcome` job is enqueued by the web process as the callback arrives, not by the
 * worker once the `wecom-inbound` backlog reaches the event (a backlog of refetches after a deploy
 * or at a campaign's peak would otherwise eat the window). Only callbacks carrying a WelcomeCode
 * are parsed. Failure is not fatal: the worker's add handler enqueues the same job (the job id
 * comes from the single-use code) when it processes the inbound job.
 */
export class WelcomeLane {
  constructor(private readonly deps: { queues: Queues; redis: Redis; timeoutMs: number; logger: Logger }) {}

  async offer(corpId: string, xml: string, receivedAt: number): Promise<WelcomeLaneOutcome> {
    if (!xml.includes(WELCOME_MARK)) return 'none';
    let job;
    try {
      job = welcomeJobFor(corpId, parseEvent(xml), receivedAt);
    } catch (err) {
      if (err instanceof EventParseError) return 'none';
      throw err;
    }
    if (!job) return 'none';
    if (this.deps.redis.status !== 'ready') return 'failed';
    try {
      await withTimeout(enqueueWelcome(this.deps.queues, job), this.deps.timeoutMs);
      return 'enqueued';
    } catch (err) {
      this.deps.logger.warn({ corpId, err: (err as Error).message }, 'welcome job not enqueued from the callback; the worker enqueues it with the inbound job');
      return 'failed';
    }
  }
}
