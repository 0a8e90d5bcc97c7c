import { optsEncodeMap, type DefaultJobOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ADD_DEDUP_JOBS_LUA } from './inbound-add.script.js';

/** One job to write: its id (the de-duplication key) and its JSON-serialisable data. */
export interface InboundJobInput {
  id: string;
  data: unknown;
}

/** Jobs for one queue, as part of a call that may span several queues. */
export interface DedupJobGroup {
  writer: DedupJobWriter;
  jobs: InboundJobInput[];
  /**
   * Written before every group without it: the other groups' jobs are stored only once these are
   * (DedupJobBatcher.submitAfter). Leading groups come first in a call's list.
   */
  leading?: boolean;
}

const COMMAND = 'scrmAddDedupJobs';
/** Defined without a fixed key count: the first argument is the number of keys (5 per queue). */
type AddCommand = (...args: Array<string | number>) => Promise<number[]>;

/** Job options the script does not implement (it writes standard jobs only). */
const UNSUPPORTED_OPTIONS = ['delay', 'priority', 'lifo', 'parent', 'repeat', 'repeatJobKey', 'prevMillis'] as const;

/**
 * Writes standard jobs with custom ids into one queue (see inbound-add.script.ts for what it
 * writes and why it replaces BullMQ's add): the callback path's `wecom-inbound` jobs and the
 * welcome lane's `wecom-welcome` jobs. Jobs get the queue's default options plus the custom id
 * and, when a TTL is given, throttle-mode de-duplication, encoded as BullMQ stores them.
 * `writeDedupJobs` writes the jobs of several queues with one EVALSHA.
 */
export class DedupJobWriter {
  /** The encoded default options as JSON without the closing brace; each job appends its own two. */
  private readonly optsHead: string;
  private readonly keys: string[];
  private readonly header: Array<string | number>;

  /** The end of each job's opts JSON after its id: the de-duplication option, or just the closing brace. */
  private readonly optsTail: (id: string) => string;

  /**
   * @param dedupTtlMs how long each job's de-duplication mark lives; undefined writes no mark
   * (the job id alone de-duplicates while the job exists, as `add(name, data, { jobId })`).
   */
  constructor(
    /** The handle the keys were built from; callers rebuild the writer when Queues replaced it. */
    readonly queue: Queue,
    /** The BullMQ job name of every job written. */
    readonly name: string,
    /** The de-duplication mark's life; undefined: no mark. */
    readonly dedupTtlMs?: number,
  ) {
    const defaults: DefaultJobOptions = queue.defaultJobOptions;
    const unsupported = UNSUPPORTED_OPTIONS.filter(
      (option) => (defaults as Record<string, unknown>)[option] !== undefined,
    );
    if (unsupported.length > 0)
      throw new Error(
        `${queue.name} default job options ${unsupported.join(', ')} are not supported by the inbound job writer`,
      );
    const { jobId: _jobId, deduplication: _dedup, ...shared } = defaults as Record<string, unknown>;
    const head = JSON.stringify(encodeOpts(shared)).slice(0, -1);
    this.optsHead = `${head}${head === '{' ? '' : ','}"jobId":`;
    const dedupOptName = JSON.stringify(optsEncodeMap.deduplication ?? 'de');
    this.optsTail = dedupTtlMs === undefined ? () => '}' : (id) => `,${dedupOptName}:{"id":${id},"ttl":${dedupTtlMs}}}`;
    const key = (type: string) => queueKey(queue, type);
    this.keys = [key('meta'), key('wait'), key('active'), key('events'), key('marker')];
    this.header = [key(''), `${key('de')}:`, name, dedupTtlMs ?? 0];
  }

  /** The queue's connection (the script runs there). */
  async client(): Promise<Redis> {
    return (await this.queue.getBackend().client) as unknown as Redis;
  }

  /** Appends this queue's KEYS and ARGV section for `jobs` (layout in inbound-add.script.ts). */
  appendSection(jobs: InboundJobInput[], keys: string[], args: Array<string | number>): void {
    keys.push(...this.keys);
    args.push(...this.header, jobs.length);
    for (const job of jobs) {
      // As JSON.stringify({ ...defaults, jobId, de: { id, ttl } }) would write it, at a tenth of its
      // CPU (the object spread and generic stringify were ~4 µs per job in the ingest bench).
      const id = JSON.stringify(job.id);
      args.push(job.id, JSON.stringify(job.data), `${this.optsHead}${id}${this.optsTail(id)}`);
    }
  }
}

/**
 * Writes the jobs of several queues with one script call per connection (one in practice: the
 * queues share the producer connection); on a Redis Cluster, one call per queue. Resolves to one
 * flag per job, in input order. Leading groups (`DedupJobGroup.leading`, listed first) are stored
 * before the others: within one call the script writes the sections in order and an error stops
 * it before the later ones; when the groups need several calls, the leading ones are written (and
 * answered) first, then the others.
 */
export async function writeDedupJobs(groups: DedupJobGroup[]): Promise<boolean[]> {
  const live = groups.filter((group) => group.jobs.length > 0);
  if (live.length === 0) return [];
  const leading = live.filter((group) => group.leading);
  const rest = leading.length === 0 ? live : live.filter((group) => !group.leading);
  const clientOf = new Map<DedupJobGroup, Redis>();
  await Promise.all(live.map(async (group) => clientOf.set(group, await group.writer.client())));
  const plan = (own: DedupJobGroup[]) =>
    planCalls(
      own,
      own.map((group) => clientOf.get(group) as Redis),
    );
  const flags = new Map<DedupJobGroup, boolean[]>();
  const calls = plan(leading.length === 0 || rest.length === 0 ? live : [...leading, ...rest]);
  if (calls.length > 1 && leading.length > 0 && rest.length > 0) {
    await runCalls(plan(leading), flags);
    await runCalls(plan(rest), flags);
  } else await runCalls(calls, flags);
  return live.flatMap((group) => flags.get(group) ?? []);
}

/** The script calls for `groups` (on `clients`, one per group): one per connection, one per queue on a cluster. */
function planCalls(groups: DedupJobGroup[], clients: Redis[]): Array<[Redis, DedupJobGroup[]]> {
  const byClient = new Map<Redis, DedupJobGroup[]>();
  const calls: Array<[Redis, DedupJobGroup[]]> = [];
  groups.forEach((group, i) => {
    const client = clients[i] as Redis;
    // A Redis Cluster runs a script on one slot: one call per queue there (docs/scale.md, "Hash slots").
    if ((client as { isCluster?: boolean }).isCluster) return void calls.push([client, [group]]);
    byClient.set(client, [...(byClient.get(client) ?? []), group]);
  });
  calls.push(...byClient);
  return calls;
}

/** Runs `calls` concurrently; each group's flags go to `flags`. */
async function runCalls(calls: Array<[Redis, DedupJobGroup[]]>, flags: Map<DedupJobGroup, boolean[]>): Promise<void> {
  await Promise.all(
    calls.map(async ([client, own]) => {
      const keys: string[] = [];
      const args: Array<string | number> = [Date.now()];
      for (const group of own) group.writer.appendSection(group.jobs, keys, args);
      const results = await command(client)(keys.length, ...keys, ...args);
      let at = 0;
      for (const group of own) {
        flags.set(
          group,
          results.slice(at, at + group.jobs.length).map((flag) => flag === 1),
        );
        at += group.jobs.length;
      }
    }),
  );
}

/** The script as an ioredis command on a connection (EVALSHA, EVAL on NOSCRIPT). */
function command(client: Redis): AddCommand {
  const commands = client as unknown as Record<string, AddCommand | undefined>;
  if (typeof commands[COMMAND] !== 'function') client.defineCommand(COMMAND, { lua: ADD_DEDUP_JOBS_LUA });
  return commands[COMMAND] as AddCommand;
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
