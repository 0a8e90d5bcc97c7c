import { Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { withTimeout } from '../infra/timeout.js';
import {
  defaultJobOptions,
  partitionName,
  partitionNames,
  partitionOf,
  queueKeyName,
  queueOfHandle,
  QueueName,
  type QueueHandleName,
} from './queue-names.js';

/** What `check()` says about one queue handle (readiness detail, start-up log). */
export interface QueueHandleState {
  queue: QueueHandleName;
  ok: boolean;
  /** Why the handle cannot enqueue now (no personal data: a Redis error text). */
  reason?: string;
}

/**
 * The only place that constructs BullMQ `Queue`s: one per name, sharing the producer
 * connection, with the default job options of queue-names.ts. Closing it closes them all.
 *
 * Handles heal (docs/reliability.md, "Queue handles that heal"): BullMQ runs a one-time
 * initialisation (an `INFO` version check) per `Queue` object and caches its promise; when that
 * check fails (a Redis stall longer than the producer's command timeout) the object rejects
 * every later call for its whole life. Such a handle is dropped and the next `get()` builds a
 * fresh one. `prepare()` creates and checks the handles a process needs at start.
 *
 * The inbound queue is `inboundPartitions` queues (INBOUND_PARTITIONS, docs/scale.md, "Inbound
 * partitions"): `inboundFor(corpId)` is a corp's, `partitions(name)` all of a product queue's.
 */
export class Queues {
  private readonly queues = new Map<QueueHandleName, Queue>();
  private readonly failed = new Map<QueueHandleName, string>();
  private replacedCount = 0;

  constructor(
    private readonly connection: Redis,
    readonly prefix: string,
    /** REDIS_MODE: in a cluster each queue's Redis name is a hash tag (queueKeyName). */
    readonly mode: 'standalone' | 'cluster' = 'standalone',
    /** INBOUND_PARTITIONS: how many queues `wecom-inbound` is split into by corp. */
    readonly inboundPartitions = 1,
  ) {}

  /** The producer connection, for small atomic scripts keyed under `prefix` (lead routing counters). */
  get redis(): Redis {
    return this.connection;
  }

  /** A queue by name; `wecom-inbound` alone is its partition 0 (use `inboundFor` to enqueue a callback). */
  get(name: QueueHandleName): Queue {
    let queue = this.queues.get(name);
    if (queue && this.failed.has(name)) {
      // A handle whose initialisation failed never recovers: replace it, never reuse it.
      this.queues.delete(name);
      this.failed.delete(name);
      this.replacedCount += 1;
      void queue.close().catch(() => undefined);
      queue = undefined;
    }
    if (!queue) {
      queue = this.create(name);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** The inbound queue partition of a corp (a corp's callbacks always go to one, in order). */
  inboundFor(corpId: string): Queue {
    return this.get(partitionName(QueueName.wecomInbound, partitionOf(corpId, this.inboundPartitions)));
  }

  /** Every queue a product queue is made of (the inbound partitions, or the queue itself). */
  partitions(name: QueueName): Queue[] {
    return this.handleNames([name]).map((handle) => this.get(handle));
  }

  /** The queue names behind product queues (all of them by default), partitions expanded. */
  handleNames(names: readonly QueueName[] = Object.values(QueueName)): QueueHandleName[] {
    return names.flatMap((name) => partitionNames(name, this.inboundPartitions));
  }

  /** How many broken handles were replaced since start (readiness detail, tests). */
  get replaced(): number {
    return this.replacedCount;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  /**
   * Whether each named handle can enqueue now: its initialisation finished within `timeoutMs`
   * and Redis answers a PING on the producer connection. A handle whose initialisation failed is
   * replaced on the spot, so a later check (or `add`) uses a fresh one.
   */
  async check(names: readonly QueueHandleName[], timeoutMs = 1000): Promise<QueueHandleState[]> {
    return Promise.all(
      names.map(async (name): Promise<QueueHandleState> => {
        const queue = this.get(name);
        try {
          await withTimeout(queue.waitUntilReady(), timeoutMs);
          if (this.connection.status !== 'ready')
            return { queue: name, ok: false, reason: `redis connection ${this.connection.status}` };
          await withTimeout(this.connection.ping(), timeoutMs);
          return { queue: name, ok: true };
        } catch (err) {
          if (this.failed.has(name)) this.get(name); // replace now, so the next caller gets a fresh handle
          return { queue: name, ok: false, reason: (err as Error).message.slice(0, 200) };
        }
      }),
    );
  }

  /**
   * Creates and checks the handles a process uses, retrying failed ones until `timeoutMs` has
   * passed. Resolves with the handles that are still not usable (the caller logs them; the
   * process starts anyway and readiness reports them until they heal).
   */
  async prepare(names: readonly QueueHandleName[], timeoutMs = 5000): Promise<QueueHandleState[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await this.check(names, Math.min(2500, Math.max(250, deadline - Date.now())));
      const bad = states.filter((s) => !s.ok);
      if (bad.length === 0 || Date.now() >= deadline) return bad;
      await new Promise((resolve) => setTimeout(resolve, 200).unref());
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close().catch(() => undefined)));
    this.queues.clear();
    this.failed.clear();
  }

  private create(name: QueueHandleName): Queue {
    const queue = new Queue(queueKeyName(name, this.mode), {
      connection: this.connection as unknown as ConnectionOptions,
      prefix: this.prefix,
      defaultJobOptions: defaultJobOptions[queueOfHandle(name).queue],
    });
    // Errors surface on the calls that hit them; this listener keeps an emitter error from crashing.
    queue.on('error', () => undefined);
    // Attached before any caller's `add`, so the handle is marked broken before that caller sees the error.
    queue.waitUntilReady().catch((err: Error) => {
      if (this.queues.get(name) === queue) this.failed.set(name, err.message);
    });
    return queue;
  }
}
