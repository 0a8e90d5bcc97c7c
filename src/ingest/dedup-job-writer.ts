import { optsEncodeMap, type DefaultJobOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ADD_INBOUND_JOBS_LUA } from './inbound-add.script.js';

/** One job to write: its id (the de-duplication key) and its JSON-serialisable data. */
export interface InboundJobInput {
  id: string;
  data: unknown;
}

const COMMAND = 'scrmAddInboundJobs';
type AddCommand = (...args: Array<string | number>) => Promise<number[]>;

/** Job options the script does not implement (it writes standard jobs only). */
const UNSUPPORTED_OPTIONS = ['delay', 'priority', 'lifo', 'parent', 'repeat', 'repeatJobKey', 'prevMillis'] as const;

/**
 * Writes a batch of standard jobs with custom ids into one queue with one EVALSHA (see
 * inbound-add.script.ts for what it writes and why it replaces BullMQ's add): the callback path's
 * `wecom-inbound` jobs and the welcome lane's `wecom-welcome` jobs. Jobs get the queue's default
 * options plus the custom id and throttle-mode de-duplication, encoded as BullMQ stores them.
 */
export class DedupJobWriter {
  private readonly staticOpts: Record<string, unknown>;

  constructor(
    private readonly queue: Queue,
    private readonly name: string,
    private readonly dedupTtlMs: number,
  ) {
    const defaults: DefaultJobOptions = queue.defaultJobOptions;
    const unsupported = UNSUPPORTED_OPTIONS.filter((option) => (defaults as Record<string, unknown>)[option] !== undefined);
    if (unsupported.length > 0) throw new Error(`${queue.name} default job options ${unsupported.join(', ')} are not supported by the inbound job writer`);
    this.staticOpts = encodeOpts(defaults as Record<string, unknown>);
  }

  /** Adds what is new; resolves to one flag per input: true added, false already known. */
  async addAll(jobs: InboundJobInput[]): Promise<boolean[]> {
    const add = await this.command();
    const key = (type: string) => queueKey(this.queue, type);
    const args: Array<string | number> = [key('meta'), key('wait'), key('active'), key('events'), key('marker'), key(''), `${key('de')}:`, this.name, Date.now(), this.dedupTtlMs];
    for (const job of jobs) {
      const opts = { ...this.staticOpts, jobId: job.id, [optsEncodeMap.deduplication ?? 'de']: { id: job.id, ttl: this.dedupTtlMs } };
      args.push(job.id, JSON.stringify(job.data), JSON.stringify(opts));
    }
    const results = await add(...args);
    return results.map((flag) => flag === 1);
  }

  /** The script as an ioredis command on the queue's connection (EVALSHA, EVAL on NOSCRIPT). */
  private async command(): Promise<AddCommand> {
    const client = (await this.queue.getBackend().client) as unknown as Redis & Record<string, AddCommand | undefined>;
    if (typeof client[COMMAND] !== 'function') client.defineCommand(COMMAND, { numberOfKeys: 5, lua: ADD_INBOUND_JOBS_LUA });
    return client[COMMAND] as AddCommand;
  }
}

/** A key of the queue as BullMQ names it (`<prefix>:<queue>:<type>`; `''` gives the job key prefix). */
function queueKey(queue: Queue, type: string): string {
  const key = queue.keys[type];
  if (key === undefined) throw new Error(`BullMQ has no "${type}" key for ${queue.name}`);
  return key;
}

/** BullMQ's optsAsJSON for plain options: short names for the attributes it compresses. */
function encodeOpts(opts: Record<string, unknown>): Record<string, unknown> {
  const encoded: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(opts)) {
    if (value === undefined) continue;
    encoded[(optsEncodeMap as Record<string, string>)[name] ?? name] = value;
  }
  return encoded;
}
