import { Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { defaultJobOptions, type QueueName } from './queue-names.js';

/**
 * The only place that constructs BullMQ `Queue`s: one per name, sharing the producer
 * connection, with the default job options of queue-names.ts. Closing it closes them all.
 */
export class Queues {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly connection: Redis,
    readonly prefix: string,
  ) {}

  get(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.connection as unknown as ConnectionOptions,
        prefix: this.prefix,
        defaultJobOptions: defaultJobOptions[name],
      });
      // Errors surface on the calls that hit them; this listener keeps an emitter error from crashing.
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
    this.queues.clear();
  }
}
