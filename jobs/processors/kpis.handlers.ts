import { dayjs } from '../../src/infra/clock.js';
import type { Logger } from '../../src/infra/logger.js';
import { sendWeeklyDigests } from '../../src/domain/kpis/digest.service.js';
import { periodStart } from '../../src/domain/kpis/kpi-days.js';
import { rollupDay, rollupRange, settleWindow } from '../../src/domain/kpis/rollup.service.js';
import type { CorpScope } from '../../src/domain/corps/corp-scope.js';
import { kpiTickJob } from '../../src/queues/jobs/kpis.jobs.js';
import type { WorkerContext } from '../context.js';
import { on, type JobEntry } from '../processor.js';
import { activeScopes } from '../scope.js';

/** The digest goes out on Monday from 09:00 corp-local (ticks until noon retry a failed send). */
const DIGEST_HOURS = [9, 12] as const;

interface CorpTick {
  corpId: string;
  today: string;
  settled?: number;
  digest?: { sent: number; none: number; already: number };
}

/**
 * One tick for one dealer corp, in its own time zone: today's partial day; once per local day
 * (the first tick after local midnight), the settle window (yesterday and the 30 days before);
 * on Monday 09:00–12:00 local, the weekly digest of the week just ended.
 */
async function tickCorp(ctx: WorkerContext, scope: CorpScope, log: Logger): Promise<CorpTick> {
  const { corpId, timeZone } = scope;
  const now = ctx.clock.now();
  const local = dayjs(now).tz(timeZone);
  const today = local.format('YYYY-MM-DD');
  const out: CorpTick = { corpId, today };
  await rollupDay({ corpId, day: today, timeZone, now });
  const nightlyKey = `${ctx.config.redis.queuePrefix}:kpis-nightly:${corpId}:${today}`;
  if ((await ctx.redis.set(nightlyKey, '1', 'EX', 3 * 86_400, 'NX')) === 'OK') {
    try {
      out.settled = (await rollupRange({ corpId, timeZone, now, ...settleWindow(today) })).length;
    } catch (err) {
      await ctx.redis.del(nightlyKey); // the next tick tries again
      throw err;
    }
  }
  if (local.day() === 1 && local.hour() >= DIGEST_HOURS[0] && local.hour() < DIGEST_HOURS[1]) {
    const week = periodStart(local.subtract(7, 'day').format('YYYY-MM-DD'), 'week');
    out.digest = await sendWeeklyDigests(
      { corpId, api: scope.api, publicBaseUrl: ctx.config.publicBaseUrl, now: () => ctx.clock.now() },
      week,
    );
  }
  log.info({ corpId, today, settled: out.settled, digest: out.digest }, 'kpis tick');
  return out;
}

/**
 * Runs one cockpit tick for every dealer corp, one run at a time in the cluster (a Redis lock;
 * a tick that finds it held is skipped, the next one comes 15 minutes later).
 */
export async function runKpiTickExclusive(
  ctx: WorkerContext,
  corpIds: readonly string[],
  log: Logger,
): Promise<CorpTick[] | { skipped: true }> {
  const key = `${ctx.config.redis.queuePrefix}:lock:kpis-tick`;
  const token = `${process.pid}-${Math.random()}`;
  if ((await ctx.redis.set(key, token, 'PX', 30 * 60_000, 'NX')) !== 'OK') return { skipped: true };
  try {
    const out: CorpTick[] = [];
    for (const scope of activeScopes(ctx, corpIds, log)) out.push(await tickCorp(ctx, scope, log));
    return out;
  } finally {
    await ctx.redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
      1,
      key,
      token,
    );
  }
}

/** The cockpit's jobs (docs/cockpit.md): the 15-minute tick (rollups and the Monday digest). */
export function kpisJobs(ctx: WorkerContext, listCorpIds: () => string[]): JobEntry[] {
  return [on(kpiTickJob, (_data, _job, log) => runKpiTickExclusive(ctx, listCorpIds(), log))];
}
