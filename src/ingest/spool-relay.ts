import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import type { Spool } from '../infra/spool.js';
import { Ticker, coalesce } from '../infra/periodic.js';
import type { SpoolEntry } from './inbound-acceptor.js';
import type { InboundProducer } from './inbound.producer.js';

export interface RelayDeps {
  spool: Spool<SpoolEntry>;
  producer: InboundProducer;
  redis: Redis;
  logger: Logger;
  metrics?: Metrics;
  intervalMs?: number;
}

/**
 * Drains the spool into `wecom-inbound` once Redis answers again (docs/architecture.md §3 step 9), through the
 * same producer, so the same de-duplication applies: a callback that was both spooled and
 * (late) queued, or re-delivered by WeCom meanwhile, still becomes exactly one job. A record
 * Redis does not take in time fails with the producer's timeout and stays spooled.
 */
export class SpoolRelay {
  private readonly ticker = new Ticker();
  /** One drain pass (coalesced). Also scans for orphaned files of other instances every 30 passes. */
  readonly runOnce: () => Promise<number> = coalesce(() => this.drain());
  private ticks = 0;

  constructor(private readonly deps: RelayDeps) {}

  start(): this {
    this.ticker.start(this.deps.intervalMs ?? 1000, () => void this.runOnce().catch(() => 0));
    return this;
  }

  stop(): void {
    this.ticker.stop();
  }

  private async drain(): Promise<number> {
    const { spool, producer, redis, logger, metrics } = this.deps;
    this.ticks += 1;
    metrics?.spoolDepth.set(spool.depth);
    metrics?.spoolBytes.set(spool.bytes);
    if (redis.status !== 'ready' || (spool.depth === 0 && this.ticks % 30 !== 0)) return 0;
    try {
      // A spooled callback's welcome may never have been written: its job goes without the
      // `welcomeEnqueued` mark (the acceptor spools unmarked data; this holds for any entry).
      const moved = await spool.drain((entry) => {
        const { welcomeEnqueued: _unmarked, ...data } = entry.data;
        return producer.enqueue(entry.key, data);
      });
      if (moved > 0) logger.info({ moved, left: spool.depth }, 'spooled callbacks moved to the queue');
      return moved;
    } catch (err) {
      logger.warn({ err: (err as Error).message, left: spool.depth }, 'spool drain interrupted; will retry');
      return 0;
    } finally {
      metrics?.spoolDepth.set(spool.depth);
      metrics?.spoolBytes.set(spool.bytes);
    }
  }
}
