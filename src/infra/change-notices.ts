import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Schema } from 'mongoose';
import type { Logger } from './logger.js';

/** What changed: the per-corp data that worker processes hold in memory (docs/scale.md §4). */
export type ChangeTopic = 'rules' | 'tags' | 'lead-settings' | 'channels' | 'advisors';
const TOPICS: readonly ChangeTopic[] = ['rules', 'tags', 'lead-settings', 'channels', 'advisors'];

export const changesChannel = (prefix: string): string => `${prefix}:cache:changed`;

type Listener = () => void;

/**
 * Tells in-memory caches that their data changed, in this process at once and in every other
 * process through Redis pub/sub, the way the corp cache learns of corp changes
 * (docs/architecture.md §3): a write announces its topic, each process clears what it holds for
 * it. Pub/sub is fire and forget, so a process whose subscriber connection was away clears
 * everything when it is back, and the caches keep a time limit as a last resort (a write from a
 * process that is not attached, such as a CLI, is seen when it runs out).
 */
export class ChangeNotices {
  private readonly listeners = new Map<ChangeTopic, Set<Listener>>();
  private readonly origin = randomUUID();
  private publisher: { redis: Redis; channel: string; logger?: Logger } | undefined;
  private readonly pending = new Set<ChangeTopic>();

  /** Calls `listener` whenever `topic` changes here or elsewhere; returns the unsubscribe. */
  on(topic: ChangeTopic, listener: Listener): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Announces a change: this process's listeners run now; the other processes are told once per
   * event-loop turn (a tag refresh writes many groups in a row).
   */
  announce(topic: ChangeTopic): void {
    this.notify(topic);
    if (!this.publisher || this.pending.has(topic)) return;
    this.pending.add(topic);
    setImmediate(() => {
      this.pending.delete(topic);
      const p = this.publisher;
      p?.redis.publish(p.channel, `${topic} ${this.origin}`).catch((err: Error) => {
        p.logger?.warn({ topic, err: err.message }, 'could not announce a change; other processes catch up on expiry');
      });
    });
  }

  /**
   * Joins the process to the other processes' announcements: `redis` publishes, `subscriber`
   * (a connection in subscriber mode) receives. Returns the detach.
   */
  async attach(opts: { redis: Redis; subscriber: Redis; prefix: string; logger?: Logger }): Promise<() => void> {
    const channel = changesChannel(opts.prefix);
    this.publisher = { redis: opts.redis, channel, logger: opts.logger };
    const onMessage = (ch: string, message: string) => {
      if (ch !== channel) return;
      const [topic, origin] = message.split(' ');
      if (origin === this.origin || !TOPICS.includes(topic as ChangeTopic)) return;
      this.notify(topic as ChangeTopic);
    };
    // Announcements made while the connection was away are lost: forget everything.
    const onReady = () => {
      for (const topic of TOPICS) this.notify(topic);
    };
    opts.subscriber.on('message', onMessage);
    opts.subscriber.on('ready', onReady);
    await opts.subscriber.subscribe(channel).catch((err: Error) => {
      opts.logger?.warn({ err: err.message }, 'change subscription failed; caches rely on their expiry');
    });
    return () => {
      opts.subscriber.off('message', onMessage);
      opts.subscriber.off('ready', onReady);
      if (this.publisher?.channel === channel) this.publisher = undefined;
    };
  }

  private notify(topic: ChangeTopic): void {
    for (const listener of this.listeners.get(topic) ?? []) listener();
  }
}

/**
 * The process's notices: the models' write hooks announce here (rule.model.ts, corp-tag.model.ts,
 * acquisition-settings.model.ts, channel.model.ts, advisor.model.ts),
 * the process boot attaches it to Redis, the caches listen.
 */
export const changeNotices = new ChangeNotices();

/**
 * Makes every write through `schema`'s model announce `topic` (saves, inserts, updates, deletes,
 * bulk writes), so the caches of that data forget it (docs/scale.md §4). Writes that bypass
 * mongoose (`Model.collection`) announce nothing: they call `changeNotices.announce` themselves.
 */
export function announceWrites(schema: Schema, topic: ChangeTopic): void {
  const announce = () => changeNotices.announce(topic);
  schema.post('save', announce);
  schema.post('insertMany', announce);
  schema.post(
    ['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndDelete'],
    announce,
  );
  schema.post('bulkWrite', announce);
}
