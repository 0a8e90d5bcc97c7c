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
  /** The job id for a payload; deterministic for a fact, unique for a request. */
  jobId: (data: z.output<S>) => string;
  /** Options every enqueue of this job carries (delay, attempts ...); a call may add to them. */
  defaults?: JobsOptions;
}

export interface JobContract<S extends z.ZodType> extends Readonly<JobSpec<S>> {
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
  const options = (data: z.output<S>, opts?: JobsOptions): JobsOptions => ({ ...spec.defaults, ...opts, jobId: opts?.jobId ?? spec.jobId(data) });
  return {
    ...spec,
    async enqueue(queues, data, opts) {
      const parsed = spec.schema.parse(data);
      return queues.get(spec.queue).add(spec.name, parsed, options(parsed, opts));
    },
    bulkEntry(data, opts) {
      const parsed = spec.schema.parse(data);
      return { name: spec.name, data: parsed, opts: options(parsed, opts) };
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
