import type { DefaultJobOptions } from 'bullmq';

/** Every BullMQ queue of the product (kebab-case nouns, docs/architecture.md §13.1). */
export const QueueName = {
  /** Raw decrypted callbacks; Redis with AOF is the inbox (docs/architecture.md §3). */
  wecomInbound: 'wecom-inbound',
  /** Welcome messages: a priority lane that must finish inside WeCom's 20 s window. */
  wecomWelcome: 'wecom-welcome',
  /** Domain events between handlers, the rules engine and tasks (docs/architecture.md §4). */
  domainEvents: 'domain-events',
  /** Due schedules moved out of MongoDB by the sweep (docs/architecture.md §6). */
  scheduled: 'scheduled',
  /** Periodic housekeeping: sweeps, reconciliation, polling, retention. */
  maintenance: 'maintenance',
} as const;

export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/**
 * The name a queue has in Redis (BullMQ keys are `<prefix>:<name>:<type>`). In a Redis Cluster
 * the name is a hash tag, `{wecom-inbound}`, so every key of one queue (and the callback
 * script's de-duplication marks, `<prefix>:{wecom-inbound}:de:<id>`) sits in one slot and each
 * queue in a slot of its own. One Redis keeps the plain names, so jobs queued before an upgrade
 * stay where workers look (docs/scale.md, "Hash slots").
 */
export function queueKeyName(name: string, mode: 'standalone' | 'cluster' | undefined): string {
  return mode === 'cluster' ? `{${name}}` : name;
}

/** The product's name of a queue from its name in Redis (metrics, alerts, logs). */
export function queueDisplayName(keyName: string): string {
  return keyName.startsWith('{') && keyName.endsWith('}') ? keyName.slice(1, -1) : keyName;
}

const DAY_SECONDS = 24 * 60 * 60;

/** Failed jobs are kept this long for inspection and replay (docs/data-inventory.md), then removed. */
const FAILED_KEEP_SECONDS = 14 * DAY_SECONDS;

/**
 * Default job options per queue. Completed jobs expire within a day; failed ones are kept for
 * inspection and replay, bounded by age (14 days) and by count, so neither an old failure nor a
 * storm of them keeps data in Redis without limit. Inbound payloads are sealed (inbound-seal.ts).
 */
export const defaultJobOptions: Record<QueueName, DefaultJobOptions> = {
  'wecom-inbound': {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: DAY_SECONDS },
    removeOnFail: { age: FAILED_KEEP_SECONDS, count: 50_000 },
  },
  // No BullMQ priority: it orders jobs within one queue only; the lane is this queue and its worker.
  'wecom-welcome': {
    attempts: 4,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: { age: DAY_SECONDS },
    removeOnFail: { age: FAILED_KEEP_SECONDS, count: 10_000 },
  },
  'domain-events': {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: DAY_SECONDS },
    removeOnFail: { age: FAILED_KEEP_SECONDS, count: 50_000 },
  },
  scheduled: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: DAY_SECONDS },
    removeOnFail: { age: FAILED_KEEP_SECONDS, count: 50_000 },
  },
  maintenance: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5000 },
    removeOnComplete: { count: 1000 },
    removeOnFail: { age: FAILED_KEEP_SECONDS, count: 1000 },
  },
};
