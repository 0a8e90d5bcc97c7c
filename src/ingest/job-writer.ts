import { createRequire } from 'node:module';
import type { Logger } from '../infra/logger.js';
import { writeDedupJobs, type DedupJobGroup } from './dedup-job-writer.js';
import { SCRIPT_VERIFIED_BULLMQ_VERSION } from './inbound-add.script.js';

/** Which implementation writes the callback path's jobs: the project's Lua script, or BullMQ's addBulk. */
export type JobWriterKind = 'lua' | 'stock';

/**
 * Writes the de-duplicated jobs of the callback path (docs/architecture.md §3 step 7): one batch of
 * DedupJobBatcher, for one or more queues. Resolves once every job exists in Redis (added, or
 * already known); rejects when the write failed. Both implementations give the same exactly-once
 * result: a job id that exists, or a de-duplication mark that lives, adds nothing. Both store the
 * leading groups (`DedupJobGroup.leading`) before the others: a job of another group is never
 * stored while a leading job failed.
 */
export interface JobWriter {
  readonly kind: JobWriterKind;
  write(groups: DedupJobGroup[]): Promise<void>;
}

/** The fast path: one EVALSHA per batch (inbound-add.script.ts), verified against one BullMQ version. */
export const luaJobWriter: JobWriter = {
  kind: 'lua',
  async write(groups) {
    await writeDedupJobs(groups);
  },
};

/**
 * The stock path: BullMQ's own `addBulk` per queue, with the job id and (when the queue's writer
 * has a TTL) throttle-mode `deduplication` keyed by the job id, as `add` would write them. Costs
 * more CPU per job than the script (inbound-add.script.ts says how much) but follows whatever
 * BullMQ version is installed.
 */
export const stockJobWriter: JobWriter = {
  kind: 'stock',
  async write(groups) {
    const addBulk = (own: DedupJobGroup[]) =>
      Promise.all(
        own.map(({ writer, jobs }) => {
          if (jobs.length === 0) return undefined;
          const ttl = writer.dedupTtlMs;
          return writer.queue.addBulk(
            jobs.map((job) => ({
              name: writer.name,
              data: job.data,
              opts: ttl === undefined ? { jobId: job.id } : { jobId: job.id, deduplication: { id: job.id, ttl } },
            })),
          );
        }),
      );
    // The leading groups first, answered, then the others (in parallel within each wave).
    await addBulk(groups.filter((group) => group.leading));
    await addBulk(groups.filter((group) => !group.leading));
  },
};

/** The version in bullmq's own package.json, as installed (not as declared in ours). */
export function installedBullmqVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('bullmq/package.json') as { version: string }).version;
}

/**
 * The Lua writer when the installed BullMQ is the version its script was verified against, else
 * the stock writer with a warning: the script copies what one BullMQ version writes, and a
 * different version may store jobs differently (docs/architecture.md §3 step 7).
 */
export function selectJobWriter(opts: { logger: Logger; installedVersion?: string }): JobWriter {
  const installed = opts.installedVersion ?? installedBullmqVersion();
  if (installed === SCRIPT_VERIFIED_BULLMQ_VERSION) return luaJobWriter;
  opts.logger.warn(
    { installed, verified: SCRIPT_VERIFIED_BULLMQ_VERSION, jobWriter: 'stock' },
    'BullMQ is not the version the callback job script was verified against; writing callback jobs with BullMQ addBulk (slower). Re-verify the script (src/ingest/inbound-add.script.ts) to get the fast path back',
  );
  return stockJobWriter;
}
