import { afterAll, describe, expect, it } from 'vitest';
import type { Corp } from '../src/domain/corps/corp.types.js';
import { defaultRetentionSettings } from '../src/domain/customers/retention-settings.js';
import { createLogger } from '../src/infra/logger.js';
import { createRedis } from '../src/infra/redis.js';
import { Queues } from '../src/queues/queue-factory.js';
import { QueueName } from '../src/queues/queue-names.js';
import { testConfig, uniqueName } from '../src/testing/env.js';
import { clusterSchedulers, installSchedulers, retiredSchedulerIds } from './schedulers.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const config = testConfig();
const redis = createRedis({ url: config.redis.url, role: 'producer', logger });
const opened: Queues[] = [];
const corp = (corpId: string, kind: Corp['kind'], enabled: boolean): Corp => ({
  corpId,
  kind,
  enabled,
  displayName: corpId,
  agentId: 1,
  secret: 's',
  callback: { token: 't', encodingAesKey: 'k' },
  contactSync: undefined,
  timezone: 'Asia/Shanghai',
  retention: defaultRetentionSettings,
});
const corps = new Map(
  [corp('wwdealer', 'dealer', true), corp('wwoff', 'dealer', false), corp('wwoem', 'oem', true)].map((c) => [
    c.corpId,
    c,
  ]),
);

function fresh(): Queues {
  const queues = new Queues(redis, uniqueName('sched'));
  opened.push(queues);
  return queues;
}
const ids = async (queues: Queues) =>
  (await queues.get(QueueName.maintenance).getJobSchedulers()).map((s) => s.key).sort();

afterAll(async () => {
  for (const q of opened) {
    for (const queue of q.all()) await queue.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
  redis.disconnect();
});

describe('job schedulers (jobs/schedulers.ts)', () => {
  it('a welcome-only worker installs none', async () => {
    const queues = fresh();
    await installSchedulers({ queues, corps }, [QueueName.wecomWelcome], [...corps.keys()], logger);
    expect(await ids(queues)).toEqual([]);
  });

  it("a worker consuming `maintenance` installs the cluster schedulers and the dealer corps' own, and retires renamed ids", async () => {
    const queues = fresh();
    const maintenance = queues.get(QueueName.maintenance);
    for (const old of retiredSchedulerIds)
      await maintenance.upsertJobScheduler(old, { every: 60_000 }, { name: 'tasks-tick', data: {} });
    await installSchedulers({ queues, corps }, [QueueName.maintenance, QueueName.scheduled], [...corps.keys()], logger);
    expect(await ids(queues)).toEqual(
      [
        ...clusterSchedulers.map((s) => s.id),
        'reconcile-wwdealer',
        'retention-wwdealer',
        'groups-reconcile-wwdealer',
        'outcomes-daily-wwdealer',
      ].sort(),
    );
    const reconcile = (await maintenance.getJobSchedulers()).find((s) => s.key === 'reconcile-wwdealer');
    expect(reconcile).toMatchObject({ name: 'customers-reconcile', pattern: '0 3 * * *', tz: 'Asia/Shanghai' });
    // Installing again changes nothing (idempotent upserts).
    await installSchedulers({ queues, corps }, [QueueName.maintenance], [...corps.keys()], logger);
    expect(await ids(queues)).toHaveLength(clusterSchedulers.length + 4);
  });

  it('TEST_SCHEDULER_PATTERN replaces the pattern of every cron scheduler, keeping its time zone, and leaves the `every` ones', async () => {
    const queues = fresh();
    const testPattern = '*/30 * * * * *';
    await installSchedulers(
      { queues, corps, config: { testSchedulerPattern: testPattern } },
      [QueueName.maintenance, QueueName.scheduled],
      [...corps.keys()],
      logger,
    );
    const installed = await queues.get(QueueName.maintenance).getJobSchedulers();
    expect(installed.find((s) => s.key === 'reconcile-wwdealer')).toMatchObject({
      pattern: testPattern,
      tz: 'Asia/Shanghai',
    });
    for (const spec of clusterSchedulers) {
      const got = installed.find((s) => s.key === spec.id);
      if (spec.repeat.pattern) expect(got?.pattern, spec.id).toBe(testPattern);
      else expect(Number(got?.every), spec.id).toBe(spec.repeat.every);
    }
  });

  it("installing again leaves an unchanged scheduler's pending run alone (a daily run waiting in a backlog is not pushed to tomorrow)", async () => {
    const queues = fresh();
    const maintenance = queues.get(QueueName.maintenance);
    await installSchedulers({ queues, corps }, [QueueName.maintenance], ['wwdealer'], logger);
    const pending = async () =>
      (await maintenance.getJobs(['delayed', 'waiting'], 0, -1))
        .filter((job) => job.repeatJobKey === 'retention-wwdealer')
        .map((job) => job.id);
    const [first] = await pending();
    expect(first).toBeDefined();
    // Its time has come and no worker has taken it yet: it waits, as behind 1,500 corps' sweeps.
    await (await maintenance.getJob(first ?? ''))?.promote();
    expect(await maintenance.getJobs(['waiting'], 0, -1).then((jobs) => jobs.map((j) => j.id))).toContain(first);
    // The hourly re-install (and every worker start) runs meanwhile.
    await installSchedulers({ queues, corps }, [QueueName.maintenance], ['wwdealer'], logger);
    expect(await pending()).toEqual([first]);
    expect(await maintenance.getJobs(['waiting'], 0, -1).then((jobs) => jobs.map((j) => j.id))).toContain(first);
    // A changed scheduler is installed anew.
    await installSchedulers(
      { queues, corps, config: { testSchedulerPattern: '*/30 * * * * *' } },
      [QueueName.maintenance],
      ['wwdealer'],
      logger,
    );
    expect((await maintenance.getJobScheduler('retention-wwdealer'))?.pattern).toBe('*/30 * * * * *');
  });
});
