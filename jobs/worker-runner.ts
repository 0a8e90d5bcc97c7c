import { hostname } from 'node:os';
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Alerter } from '../src/infra/alerts.js';
import { partitionNames, queueKeyName, type QueueHandleName, type QueueName } from '../src/queues/queue-names.js';
import type { WorkerContext } from './context.js';
import { GatheringWorker } from './gathering-worker.js';
import { classifyJobFailure } from '../src/wecom/job-errors.js';
import type { ProcessorDefinition, ProcessorFactory } from './processor.js';
import { noteWecomAlert } from './wecom-alerts.js';

export interface WatchdogOptions {
  /** How often to check (ms). Default 15 s. */
  intervalMs?: number;
  /** A worker that started no job for this long while the oldest job waited this long is recreated (ms). Default 60 s. */
  silentMs?: number;
}

/** The running workers; the watchdog may replace one, so always read the current list. */
export interface RunningWorkers {
  list(): Worker[];
  /** How many times the watchdog recreated a worker (tests, metrics). */
  readonly recreated: number;
  /**
   * Lets active jobs finish for up to `graceMs`, then force-closes (their locks expire and BullMQ
   * hands them to another worker as stalled), so shutdown never hangs on a job or a half-open
   * Redis connection.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts one BullMQ Worker per processor (only those of `queues` when given: WORKER_QUEUES), each job with a child logger carrying queue, job id
 * and attempt (docs/architecture.md §13.7), plus a watchdog: BullMQ issue #4585 left v6 workers silently
 * parked after a Redis outage longer than `drainDelay`; 6.7.0 contains the fix (PR #4586) and a
 * test proves it, and the watchdog is the belt to those braces ("the worker relies on IORedis
 * for all reconnection", maintainers in #3185): a worker that starts nothing while a job has
 * waited longer than `silentMs` is closed and recreated, with an alert.
 */
export function startWorkers(
  ctx: WorkerContext,
  connection: Redis,
  factories: readonly ProcessorFactory[],
  opts: WatchdogOptions & { alerts?: Alerter; queues?: readonly QueueName[] } = {},
): RunningWorkers {
  const defs = factories
    .map((factory) => factory(ctx))
    .filter((def) => !opts.queues || opts.queues.includes(def.queue));
  // A partitioned queue (INBOUND_PARTITIONS, docs/scale.md) gets one Worker per partition; they
  // share the processor's concurrency, so a process runs as many jobs at once whatever K is.
  const slots = defs.flatMap((def) => {
    const names = partitionNames(def.queue, ctx.config.inboundPartitions);
    const share = { ...def, concurrency: Math.max(1, Math.ceil(def.concurrency / names.length)) };
    return names.map((name) => ({
      def: share,
      name,
      worker: createWorker(ctx, connection, share, name, opts.alerts),
      lastActivity: Date.now(),
      probe: new Queue(queueKeyName(name, ctx.config.redis.mode), {
        connection: connection as unknown as ConnectionOptions,
        prefix: ctx.config.redis.queuePrefix,
      }),
    }));
  });
  for (const slot of slots) {
    slot.probe.on('error', () => undefined);
    track(slot);
  }
  let recreated = 0;
  const silentMs = opts.silentMs ?? 60_000;
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void Promise.all(
      slots.map(async (slot) => {
        if (Date.now() - slot.lastActivity < silentMs || !slot.worker.isRunning()) return;
        const oldest = await slot.probe.getJobs(['waiting', 'prioritized'], -1, -1).catch(() => []);
        const waitedMs = oldest[0] ? Date.now() - oldest[0].timestamp : 0;
        if (waitedMs < silentMs) return;
        ctx.logger.error({ queue: slot.name, waitedMs }, 'worker consumed nothing while jobs waited; recreating it');
        opts.alerts?.raise(
          'worker_stalled',
          slot.name,
          `worker for ${slot.name} consumed nothing for ${Math.round(waitedMs / 1000)} s while jobs waited; it was recreated`,
        );
        const old = slot.worker;
        await Promise.race([old.close(true), new Promise((resolve) => setTimeout(resolve, 5000))]).catch(
          () => undefined,
        );
        slot.worker = createWorker(ctx, connection, slot.def, slot.name, opts.alerts);
        slot.lastActivity = Date.now();
        track(slot);
        recreated += 1;
      }),
    ).finally(() => (checking = false));
  }, opts.intervalMs ?? 15_000);
  timer.unref();

  function track(slot: (typeof slots)[number]): void {
    const touch = () => (slot.lastActivity = Date.now());
    slot.worker.on('active', touch);
    slot.worker.on('completed', touch);
    slot.worker.on('failed', touch);
    slot.worker.on('drained', touch);
  }

  return {
    list: () => slots.map((s) => s.worker),
    get recreated() {
      return recreated;
    },
    async close(graceMs = 5000) {
      clearInterval(timer);
      const graceful = Promise.all(slots.map((s) => s.worker.close())).then(
        () => true,
        () => false,
      );
      const finished = await Promise.race([
        graceful,
        new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
      ]);
      if (!finished) {
        ctx.logger.warn(
          { graceMs },
          'workers did not close in time; forcing (active jobs become stalled and are retried)',
        );
        await Promise.race([
          Promise.all(slots.map((s) => s.worker.close(true).catch(() => undefined))),
          new Promise((resolve) => setTimeout(resolve, 1000).unref()),
        ]);
      }
      await Promise.race([
        Promise.all(slots.map((s) => s.probe.close().catch(() => undefined))),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
    },
  };
}

/** This process as BullMQ records it on the jobs it runs: `<host>:<pid>` (a pod name and pid in Kubernetes). */
export const WORKER_NAME = `${hostname()}:${process.pid}`;

/**
 * Repeated failures of one kind of job (queue and job name) raise a `job_failures` alert: at
 * `threshold` failed attempts within `windowMs`, then at most once per ALERT_MIN_INTERVAL_S
 * (docs/reliability.md, "Alerts on repeated job failures").
 */
export const JOB_FAILURE_ALERT = { threshold: 20, windowMs: 5 * 60_000 } as const;

export function noteJobFailure(alerts: Alerter, queue: string, jobName: string, err: Error): boolean {
  // Error texts carry ids and codes, never personal data (docs/architecture.md §13.7); cut short all the same.
  const reason = err.message.slice(0, 120);
  return alerts.count(
    'job_failures',
    `${queue}/${jobName}`,
    JOB_FAILURE_ALERT.threshold,
    JOB_FAILURE_ALERT.windowMs,
    `${queue} ${jobName}: ${JOB_FAILURE_ALERT.threshold} or more failed attempts within ${JOB_FAILURE_ALERT.windowMs / 60_000} min; last error: ${reason}`,
    { queue, jobName },
  );
}

/**
 * One BullMQ worker for a processor: looks the job's handler up by name and classifies what it
 * throws, once for every processor (docs/architecture.md §4, "Failures"): a permanent failure fails
 * the job at once (UnrecoverableError); a rate limit pauses the queue (`worker.rateLimit`) and puts
 * the job back without using an attempt (`Worker.RateLimitError`); anything else is retried with
 * the queue's backoff. A job name without a handler is retried too: during a rolling deploy a
 * worker of the next release may know it.
 */
function createWorker(
  ctx: WorkerContext,
  connection: Redis,
  def: ProcessorDefinition,
  /** The queue consumed: `def.queue`, or one of its partitions. */
  name: QueueHandleName,
  alerts: Alerter | undefined,
): Worker {
  const WorkerClass = (def.gatherMs ? GatheringWorker : Worker) as typeof Worker;
  const worker: Worker = new WorkerClass(
    queueKeyName(name, ctx.config.redis.mode),
    async (job) => {
      const log = ctx.logger.child({
        queue: name,
        jobId: job.id,
        jobName: job.name,
        attempt: job.attemptsMade + 1,
      });
      const handler = Object.hasOwn(def.handlers, job.name) ? def.handlers[job.name] : undefined;
      if (!handler) throw new Error(`no handler for ${def.queue} job ${job.name} in this build; the job is retried`);
      try {
        return await handler(job, log);
      } catch (err) {
        const failure = classifyJobFailure(err);
        if (failure.kind === 'rate_limited') {
          log.warn(
            { delayMs: failure.delayMs, err: failure.error.message },
            'rate limited; the queue pauses and the job waits',
          );
          await worker.rateLimit(failure.delayMs);
          throw Worker.RateLimitError();
        }
        throw failure.error;
      }
    },
    {
      connection: connection as unknown as ConnectionOptions,
      prefix: ctx.config.redis.queuePrefix,
      concurrency: def.concurrency,
      // Stored on every job it runs (`processedBy`): which instance ran a job, in the dashboard and in tests.
      name: WORKER_NAME,
      ...def.options,
    },
  );
  if (worker instanceof GatheringWorker) worker.gatherMs = def.gatherMs ?? 0;
  // While Redis is away every reconnect attempt errors; one line per queue per 5 s is enough.
  let lastErrorLog = 0;
  worker.on('error', (err) => {
    if (Date.now() - lastErrorLog < 5000) return;
    lastErrorLog = Date.now();
    ctx.logger.error({ queue: name, err: err.message }, 'worker error');
  });
  worker.on('failed', (job, err) => {
    ctx.logger.warn({ queue: name, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed');
    if (!alerts) return;
    noteWecomAlert(alerts, err);
    noteJobFailure(alerts, def.queue, job?.name ?? 'unknown', err);
  });
  return worker;
}
