import { UnrecoverableError, type Job, type JobsOptions } from 'bullmq';
import type { z } from 'zod';
import type { Queues } from './queue-factory.js';
import type { QueueName } from './queue-names.js';

/**
 * One job, one definition (docs/architecture.md §13.1): the queue it lives on, its name, the
 * payload schema and the job id. The producer (`enqueue`, `bulkEntry`) and the consumer (`parse`)
 * both use it, so a payload change that breaks one side fails type-checking, not a job at run time.
 *
 * Job names are kebab-case nouns or verb-nouns (`task-notify`, `message-batch`); ids are
 * deterministic where the job stands for one fact (docs/architecture.md §13.5), so a repeated
 * enqueue is a no-op.
 */
export interface JobSpec<S extends z.ZodType> {
  queue: QueueName;
  name: string;
  schema: S;
  /**
   * The job id for a payload; deterministic for a fact, unique for a request. Left out only where
   * the producer owns an id the payload cannot give (the callback's de-duplication key, the outbox
   * record id): then every `enqueue`/`bulkEntry` must pass `opts.jobId`.
   */
  jobId?: (data: z.output<S>) => string;
  /**
   * Names this job had before (docs/architecture.md §11, "Renaming a job"): jobs already in Redis
   * under an old name (delayed, retried, repeatable) are still consumed by the same handler for one
   * release. Producers always write `name`.
   */
  legacyNames?: readonly string[];
  /**
   * Names each job after its payload instead of `name` (domain events: the event type, so queue
   * views and failure alerts say what happened). The consumer accepts every name it can give:
   * list them in `legacyNames`.
   */
  nameOf?: (data: z.output<S>) => string;
  /** Options every enqueue of this job carries (delay, attempts ...); a call may add to them. */
  defaults?: JobsOptions;
}

export interface JobContract<S extends z.ZodType> extends Readonly<JobSpec<S>> {
  /** `name` followed by the legacy names: every name a consumer must accept. */
  readonly names: readonly string[];
  /** Validates the payload and adds the job. */
  enqueue(queues: Queues, data: z.input<S>, opts?: JobsOptions): Promise<Job>;
  /** The `addBulk` entry for a payload (validated), for producers that add many at once. */
  bulkEntry(data: z.input<S>, opts?: JobsOptions): { name: string; data: z.output<S>; opts: JobsOptions };
  /**
   * The consumer's view of a job's payload. A payload that does not match cannot succeed on a
   * retry, so it fails the job at once (`UnrecoverableError`), naming the job but never echoing
   * the data (it may hold personal data).
   */
  parse(job: Pick<Job, 'name' | 'data'>): z.output<S>;
}

export function defineJob<S extends z.ZodType>(spec: JobSpec<S>): JobContract<S> {
  const options = (data: z.output<S>, opts?: JobsOptions): JobsOptions => {
    const jobId = opts?.jobId ?? spec.jobId?.(data);
    if (jobId === undefined) throw new Error(`${spec.queue}/${spec.name} needs a job id from its producer`);
    return { ...spec.defaults, ...opts, jobId };
  };
  return {
    ...spec,
    names: [spec.name, ...(spec.legacyNames ?? [])],
    async enqueue(queues, data, opts) {
      const parsed = spec.schema.parse(data);
      return queues.get(spec.queue).add(spec.nameOf?.(parsed) ?? spec.name, parsed, options(parsed, opts));
    },
    bulkEntry(data, opts) {
      const parsed = spec.schema.parse(data);
      return { name: spec.nameOf?.(parsed) ?? spec.name, data: parsed, opts: options(parsed, opts) };
    },
    parse(job) {
      const result = spec.schema.safeParse(job.data);
      if (!result.success) {
        const fields = result.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
        throw new UnrecoverableError(`${spec.queue}/${spec.name} job data is invalid (fields: ${fields})`);
      }
      return result.data;
    },
  };
}
