/**
 * Re-runs failed jobs after a fix: `npm run replay -- --queue wecom-inbound --failed [--since 2026-01-01T00:00:00Z] [--dry-run] [--limit 1000]`.
 * `--since` takes an ISO time or a duration such as 2h / 3d. Retried jobs keep their ids, so the
 * inbound_events record (unique on the de-duplication key) still makes an already processed event a no-op.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../src/infra/bootstrap.js';
import { createLogger } from '../src/infra/logger.js';
import { createRedis, redisSecurity, waitForRedis } from '../src/infra/redis.js';
import { Queues } from '../src/queues/queue-factory.js';
import { QueueName } from '../src/queues/queue-names.js';

const { values } = parseArgs({
  options: {
    queue: { type: 'string' },
    failed: { type: 'boolean' },
    since: { type: 'string' },
    'dry-run': { type: 'boolean' },
    limit: { type: 'string' },
  },
});

/** `2h`, `3d`, `30m` or an ISO date → epoch ms. */
export function parseSince(value: string, now = Date.now()): number {
  const rel = /^(\d+)([mhd])$/.exec(value);
  if (rel) return now - Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new Error(`--since ${value}: use an ISO time or a duration like 2h / 3d`);
  return at;
}

async function main(): Promise<void> {
  const name = values.queue;
  if (!name || !(Object.values(QueueName) as string[]).includes(name))
    throw new Error(`--queue must be one of ${Object.values(QueueName).join(', ')}`);
  if (!values.failed) throw new Error('only --failed jobs can be replayed');
  const config = loadConfigOrExit(process.env, 'replay');
  const logger = createLogger({ level: 'warn', name: 'replay' });
  const redis = createRedis({
    url: config.redis.url,
    ...redisSecurity(config),
    role: 'producer',
    logger,
    connectionName: 'scrm-replay',
  });
  await waitForRedis(redis, config.redis.url, 5000);
  const queues = new Queues(redis, config.redis.queuePrefix, config.redis.mode, config.inboundPartitions);
  const since = values.since ? parseSince(values.since) : 0;
  const limit = values.limit ? Number(values.limit) : Number.POSITIVE_INFINITY;
  // Collect first, then retry: retrying moves jobs out of the failed set being paged through.
  // `wecom-inbound` is every inbound partition (INBOUND_PARTITIONS, docs/scale.md).
  const selected = [];
  for (const queue of queues.partitions(name as QueueName)) {
    for (let start = 0; selected.length < limit; start += 500) {
      const jobs = await queue.getJobs(['failed'], start, start + 499, true);
      if (jobs.length === 0) break;
      selected.push(...jobs.filter((job) => (job.finishedOn ?? job.timestamp) >= since));
    }
  }
  try {
    for (const job of selected.slice(0, limit)) {
      console.log(
        `${values['dry-run'] ? 'would retry' : 'retrying'} ${job.id} (failed: ${(job.failedReason ?? '').slice(0, 120)})`,
      );
      if (!values['dry-run']) await job.retry('failed');
    }
    console.log(
      `${values['dry-run'] ? 'dry run: ' : ''}${Math.min(selected.length, limit)} failed job(s) in ${name}${since ? ` since ${new Date(since).toISOString()}` : ''}`,
    );
  } finally {
    await queues.close();
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(`replay: ${(err as Error).message}`);
  process.exit(1);
});
