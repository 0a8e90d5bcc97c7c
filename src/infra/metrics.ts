import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import { queueDisplayName, queueOfHandle } from '../queues/queue-names.js';

/** Outcomes of one callback request (metric label and log reason). */
export type CallbackOutcome =
  | 'accepted'
  | 'spooled'
  | 'verified'
  | 'dropped'
  | 'unknown_corp'
  | 'bad_signature'
  | 'receive_id_mismatch'
  | 'stale_timestamp'
  | 'malformed'
  | 'forbidden_dtd'
  | 'too_large'
  | 'bad_encoding';

/**
 * Prometheus metrics of the ingestion path and the queues. Always built on a Registry passed
 * in (never prom-client's global one), so tests and several apps in one process do not collide.
 */
export class Metrics {
  readonly callbacks: Counter<'corp' | 'endpoint' | 'outcome'>;
  readonly ackSeconds: Histogram<'endpoint'>;
  readonly spoolDepth: Gauge;
  readonly spoolBytes: Gauge;
  /** 1 for the callback path's job writer in use (`lua` or `stock`, src/ingest/job-writer.ts). */
  readonly jobWriter: Gauge<'writer'>;
  readonly inboundProcessed: Counter<'type' | 'outcome'>;
  readonly alerts: Counter<'kind'>;
  private readonly queueWaiting: Gauge<'queue'>;
  private readonly queueOldestAge: Gauge<'queue'>;
  private readonly callbackChildren = new Map<string, { inc(): void }>();

  constructor(
    readonly registry: Registry,
    opts: { defaultMetrics?: boolean; queues?: () => Queue[]; nowMs?: () => number } = {},
  ) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
    this.callbacks = new Counter({
      name: 'scrm_callbacks_total',
      help: 'WeCom callback requests by corp, endpoint and outcome',
      labelNames: ['corp', 'endpoint', 'outcome'],
      registers: [registry],
    });
    this.ackSeconds = new Histogram({
      name: 'scrm_callback_ack_seconds',
      help: 'Time from request start to the callback answer',
      labelNames: ['endpoint'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.spoolDepth = new Gauge({
      name: 'scrm_spool_depth',
      help: 'Callbacks in the local spool waiting for Redis',
      registers: [registry],
    });
    this.spoolBytes = new Gauge({
      name: 'scrm_spool_bytes',
      help: 'Bytes used by the local callback spool',
      registers: [registry],
    });
    this.jobWriter = new Gauge({
      name: 'scrm_ingest_job_writer',
      help: 'Callback job writer in use: lua (verified script) or stock (BullMQ addBulk, installed BullMQ differs)',
      labelNames: ['writer'],
      registers: [registry],
    });
    this.inboundProcessed = new Counter({
      name: 'scrm_inbound_processed_total',
      help: 'wecom-inbound jobs processed by event type and outcome',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    });
    this.alerts = new Counter({
      name: 'scrm_alerts_total',
      help: 'Operator alerts raised, by kind',
      labelNames: ['kind'],
      registers: [registry],
    });
    const sample = createQueueSampler(opts.queues, opts.nowMs ?? Date.now);
    this.queueWaiting = new Gauge({
      name: 'scrm_queue_waiting',
      help: 'Jobs waiting in each queue and partition (read on scrape; sum over partition for a queue)',
      labelNames: ['queue', 'partition'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of await sample()) this.set({ queue: s.queue, partition: s.partition }, s.waiting);
      },
    });
    this.queueOldestAge = new Gauge({
      name: 'scrm_queue_oldest_waiting_age_seconds',
      help: 'Age of the oldest waiting job in each queue and partition (0 when none waits)',
      labelNames: ['queue', 'partition'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of await sample()) this.set({ queue: s.queue, partition: s.partition }, s.oldestAgeS);
      },
    });
  }

  /** Counts a callback; children are cached because this runs on every request. */
  countCallback(corp: string, endpoint: string, outcome: CallbackOutcome): void {
    const id = `${corp}\u0000${endpoint}\u0000${outcome}`;
    let child = this.callbackChildren.get(id);
    if (!child) {
      child = this.callbacks.labels(corp, endpoint, outcome);
      this.callbackChildren.set(id, child);
    }
    child.inc();
  }
}

export interface QueueSample {
  /** The product queue (`wecom-inbound` for each of its partitions). */
  queue: string;
  /** The partition (INBOUND_PARTITIONS, docs/scale.md); 0 for a queue that is not partitioned. */
  partition: number;
  waiting: number;
  oldestAgeS: number;
}

/** Reads waiting counts and the oldest waiting job's age; Redis away → the queue is left out, not reported as 0. */
export async function sampleQueue(queue: Queue, nowMs: number): Promise<QueueSample | undefined> {
  try {
    const [counts, head, tail] = await Promise.all([
      queue.getJobCounts('waiting', 'prioritized'),
      queue.getJobs(['waiting'], 0, 0),
      queue.getJobs(['waiting'], -1, -1),
    ]);
    const stamps = [...head, ...tail].filter(Boolean).map((job) => job.timestamp);
    const oldest = stamps.length > 0 ? Math.min(...stamps) : undefined;
    const { queue: name, partition } = queueOfHandle(queueDisplayName(queue.name));
    return {
      queue: name,
      partition,
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      oldestAgeS: oldest === undefined ? 0 : Math.max(0, (nowMs - oldest) / 1000),
    };
  } catch {
    return undefined;
  }
}

/** One sample shared by the gauges of one scrape (coalesced for 500 ms). */
function createQueueSampler(queues: (() => Queue[]) | undefined, nowMs: () => number): () => Promise<QueueSample[]> {
  let cached: { at: number; value: Promise<QueueSample[]> } | undefined;
  return () => {
    if (!queues) return Promise.resolve([]);
    const now = Date.now();
    if (!cached || now - cached.at > 500) {
      cached = {
        at: now,
        value: Promise.all(queues().map((q) => sampleQueue(q, nowMs()))).then((all) =>
          all.filter((s): s is QueueSample => s !== undefined),
        ),
      };
    }
    return cached.value;
  };
}
