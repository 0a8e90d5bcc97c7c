/**
 * Pulls a corp's members, tags and every customer relationship from WeCom into MongoDB:
 *   npm run sync -- --corp <corpId> [--restart]
 * Resumes after a crash from its cursor checkpoint (in Redis) unless --restart; emits the same
 * domain events callbacks would have, and nothing for unchanged state. The worker runs the same
 * reconciliation nightly per corp. Exit codes: 0 done, 2 usage, 65 unknown corp, 1 failure.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { corpExists } from '../src/domain/corps/corp-queries.js';
import { CorpService } from '../src/domain/corps/corp.service.js';
import { reconcileCheckpointKey, reconcileCorp } from '../src/domain/customers/reconcile.service.js';
import { SystemClock } from '../src/infra/clock.js';
import { createWecomClient } from '../src/wecom/client.js';
import { fail, openCliContext } from './lib/cli-context.js';
import { createProgress } from './lib/progress.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { corp: { type: 'string' }, restart: { type: 'boolean', default: false } } });
  if (!values.corp) fail('usage: npm run sync -- --corp <corpId> [--restart]');
  const ctx = await openCliContext('sync');
  try {
    if (!(await corpExists(values.corp)))
      fail(`unknown corp ${values.corp}: add it first with npm run corp -- add`, 65);
    const corp = (
      await new CorpService({
        cipher: ctx.pd.cipher,
        defaultTimezone: ctx.config.defaultTimezone,
        prefix: ctx.config.redis.queuePrefix,
      }).loadAll()
    ).find((c) => c.corpId === values.corp);
    if (!corp || corp.kind === 'oem')
      fail(`corp ${values.corp} is the car maker's own corp; it has no customers to sync`, 65);
    const clock = new SystemClock();
    const api = createWecomClient({
      apiBase: ctx.config.wecom.apiBase,
      redis: ctx.redis,
      logger: ctx.logger,
      clock,
      timeoutMs: ctx.config.wecom.timeoutMs,
      keyPrefix: ctx.config.redis.queuePrefix,
    }).forCorp({ corpId: corp.corpId, secret: corp.secret, agentId: corp.agentId });
    const checkpoint = { redis: ctx.redis, key: reconcileCheckpointKey(ctx.config.redis.queuePrefix, corp.corpId) };
    if (values.restart) await ctx.redis.del(checkpoint.key);
    const progress = createProgress(`syncing ${corp.corpId}`, undefined);
    const summary = await reconcileCorp(
      { corpId: corp.corpId, api, pd: ctx.pd, clock, queues: ctx.queues, logger: ctx.logger },
      { runId: `cli-${randomUUID()}`, checkpoint, onPage: (s) => progress.update(s.relationshipsSeen) },
    );
    progress.finish(summary.relationshipsSeen);
    console.log(
      `${summary.resumed ? 'resumed; ' : ''}members ${summary.members}, tag groups ${summary.tagGroups}, advisors ${summary.advisors}, relationships seen ${summary.relationshipsSeen} (${summary.pages} pages): ${summary.added} added, ${summary.tagChanges} with tag changes, ${summary.ended} ended`,
    );
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => fail(`sync failed: ${(err as Error).message}`, 1));
