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

/**
 * The name of one BullMQ queue a process opens: a queue of the product, or a partition of the
 * inbound queue beyond the first (`wecom-inbound-p1` …, INBOUND_PARTITIONS, docs/scale.md,
 * "Inbound partitions").
 */
export type QueueHandleName = QueueName | `${QueueName}-p${number}`;

/** The queues split into INBOUND_PARTITIONS partitions by corp; every other queue is one. */
export const PARTITIONED_QUEUES: readonly QueueName[] = [QueueName.wecomInbound];

/**
 * The queue of one partition. Partition 0 keeps the queue's own name, so with one partition (the
 * default) nothing is renamed and an upgrade keeps the jobs already waiting in Redis.
 */
export function partitionName(name: QueueName, partition: number): QueueHandleName {
  return partition === 0 ? name : `${name}-p${partition}`;
}

/** Every queue a product queue is made of: its partitions when it is partitioned, else itself. */
export function partitionNames(name: QueueName, partitions: number): QueueHandleName[] {
  const count = PARTITIONED_QUEUES.includes(name) ? Math.max(1, partitions) : 1;
  return Array.from({ length: count }, (_, i) => partitionName(name, i));
}

/** The product queue a queue belongs to, and its partition: `wecom-inbound-p2` → wecom-inbound, 2. */
export function queueOfHandle(handle: string): { queue: QueueName; partition: number } {
  const match = /^(.*)-p(\d+)$/.exec(handle);
  const base = match?.[1];
  if (match && base !== undefined && (PARTITIONED_QUEUES as readonly string[]).includes(base))
    return { queue: base as QueueName, partition: Number(match[2]) };
  return { queue: handle as QueueName, partition: 0 };
}

/**
 * The partition of a corp: FNV-1a (32 bit) of the corp id modulo the partition count. Stable
 * across processes, restarts and releases, so a corp's callbacks always go to one queue and keep
 * their order there; changing INBOUND_PARTITIONS moves corps (docs/scale.md says how to change it).
 */
export function partitionOf(corpId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < corpId.length; i++) {
    hash ^= corpId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
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
