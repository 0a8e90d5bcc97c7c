import type { Redis } from 'ioredis';
import type { DataCipher } from '../../infra/data-crypto.js';
import type { Logger } from '../../infra/logger.js';
import { Ticker, coalesce } from '../../infra/periodic.js';
import { corpsChannel } from './corp.service.js';
import type { Corp } from './corp.types.js';

export const corpsSnapshotKey = (prefix: string): string => `${prefix}:corps:snapshot`;

/** Where the cache loads corps from (CorpService on MongoDB). */
export interface CorpSource {
  loadAll(): Promise<Corp[]>;
}

export interface CorpCacheDeps {
  source: CorpSource;
  /** Whether the source can answer now (MongoDB connected); when not, the Redis snapshot is used. */
  sourceReady?: () => boolean;
  /** Producer connection: reads and writes the snapshot. */
  redis: Redis;
  /** A `subscriber`-role connection for change notifications; optional (tests, CLIs). */
  subscriber?: Redis;
  cipher: DataCipher;
  prefix: string;
  refreshMs: number;
  logger: Logger;
}

/**
 * Corps in memory for the callback path, which never queries MongoDB (docs/architecture.md §3).
 * Loaded from MongoDB when it answers, otherwise from an encrypted snapshot in Redis, so the web
 * starts while MongoDB is down. Kept fresh by a Redis pub/sub notification (immediate) plus a
 * periodic refresh (catches missed notifications). The snapshot is sealed with DataCipher: it
 * holds every corp's secrets.
 */
export class CorpCache {
  private corps = new Map<string, Corp>();
  private isLoaded = false;
  private readonly ticker = new Ticker();
  /** Reloads now (coalescing concurrent calls). Returns where the corps came from. */
  readonly refresh: () => Promise<string> = coalesce(() => this.load());
  private lastSource: 'mongodb' | 'snapshot' | 'none' = 'none';

  constructor(private readonly deps: CorpCacheDeps) {}

  /** Looks a corp up by id; synchronous, so the callback path never waits on I/O for it. */
  get(corpId: string): Corp | undefined {
    return this.corps.get(corpId);
  }

  all(): Corp[] {
    return [...this.corps.values()];
  }

  get loaded(): boolean {
    return this.isLoaded;
  }

  /** Readiness detail: how many corps and where they came from. */
  status(): { loaded: boolean; count: number; source: string } {
    return { loaded: this.isLoaded, count: this.corps.size, source: this.lastSource };
  }

  /** First load, then notifications and the periodic refresh. Never throws: a failed load retries on the timer. */
  async start(): Promise<this> {
    await this.refresh();
    const { subscriber, prefix, logger } = this.deps;
    if (subscriber) {
      subscriber.on('message', (channel: string) => {
        if (channel === corpsChannel(prefix)) void this.refresh();
      });
      await subscriber
        .subscribe(corpsChannel(prefix))
        .catch((err: Error) =>
          logger.warn({ err: err.message }, 'corp change subscription failed; relying on the periodic refresh'),
        );
    }
    this.ticker.start(this.deps.refreshMs, () => void this.refresh());
    return this;
  }

  stop(): void {
    this.ticker.stop();
  }

  private async load(): Promise<string> {
    const { source, sourceReady, logger } = this.deps;
    if (sourceReady?.() ?? true) {
      try {
        const corps = await source.loadAll();
        this.replace(corps, 'mongodb');
        await this.writeSnapshot(corps);
        return 'mongodb';
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'loading corps from MongoDB failed; trying the Redis snapshot');
      }
    }
    if (this.isLoaded && this.lastSource === 'mongodb') return 'memory'; // fresher than a snapshot
    try {
      const corps = await this.readSnapshot();
      if (corps) {
        this.replace(corps, 'snapshot');
        return 'snapshot';
      }
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'reading the corps snapshot from Redis failed');
    }
    return 'none';
  }

  private replace(corps: Corp[], from: 'mongodb' | 'snapshot'): void {
    this.corps = new Map(corps.map((c) => [c.corpId, c]));
    this.isLoaded = true;
    this.lastSource = from;
  }

  private async writeSnapshot(corps: Corp[]): Promise<void> {
    const { redis, cipher, prefix, logger } = this.deps;
    await redis.set(corpsSnapshotKey(prefix), cipher.encrypt(JSON.stringify(corps))).catch((err: Error) => {
      logger.warn({ err: err.message }, 'could not write the corps snapshot to Redis');
    });
  }

  private async readSnapshot(): Promise<Corp[] | undefined> {
    const { redis, cipher, prefix } = this.deps;
    const sealed = await redis.get(corpsSnapshotKey(prefix));
    if (!sealed) return undefined;
    return JSON.parse(cipher.decrypt(sealed)) as Corp[];
  }
}
