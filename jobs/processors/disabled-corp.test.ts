/**
 * One corp scope (docs/architecture.md §11): callbacks and domain events of a disabled corp that
 * were queued before it was switched off run no handler, so they cause no WeCom call (the
 * sandbox's call log stays empty for the corp: no refetch, no 保客 tag) and write nothing. The
 * same callbacks of the corp while enabled do call WeCom (the test can see calls).
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../scripts/wecom-sandbox/index.js';
import type { Corp } from '../../src/domain/corps/corp.types.js';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { defaultRetentionSettings } from '../../src/domain/customers/retention-settings.js';
import { InboundEventModel } from '../../src/domain/inbound/inbound-event.model.js';
import { dedupKeyFor } from '../../src/ingest/dedup.js';
import { sealInboundJob } from '../../src/ingest/inbound-seal.js';
import { InboundProducer } from '../../src/ingest/inbound.producer.js';
import { ManualClock } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { Metrics } from '../../src/infra/metrics.js';
import { createRedis } from '../../src/infra/redis.js';
import { domainEventJob } from '../../src/queues/jobs/domain-events.jobs.js';
import { Queues } from '../../src/queues/queue-factory.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { testConfig, uniqueName } from '../../src/testing/env.js';
import { useTestDatabase } from '../../src/testing/mongo.js';
import { waitFor } from '../../src/testing/wait.js';
import { createWecomClient } from '../../src/wecom/client.js';
import { PersonalData } from '../../src/domain/customers/personal-data.js';
import type { WorkerContext } from '../context.js';
import { createProcessorFactories } from '../registry.js';
import { startWorkers, type RunningWorkers } from '../worker-runner.js';

const config = testConfig({ QUEUE_PREFIX: uniqueName('scope') });
const logger = createLogger({ level: 'silent', name: 'test' });
const redis = createRedis({ url: config.redis.url, role: 'producer', logger });
const workerRedis = createRedis({ url: config.redis.url, role: 'worker', logger });
const queues = new Queues(redis, config.redis.queuePrefix);
const producer = new InboundProducer(queues, 3_600_000);
const pd = PersonalData.fromConfig(config);
const clock = new ManualClock(Date.UTC(2026, 4, 1, 2, 0));
const corps = new Map<string, Corp>();
let sandbox: RunningSandbox;
let db: { drop: () => Promise<void> };
let workers: RunningWorkers;
let corpId: string;

const seed = {
  corps: [
    {
      name: '停用测试店',
      departments: [{ id: 1, name: '总部' }],
      members: [{ userid: 'zhangwei', name: '张伟', department: [1] }],
      customers: [
        {
          external_userid: 'wmScopeCustomer0001',
          name: '测试客户乙',
          follows: [{ userid: 'zhangwei', remark: '', createtime: 1767225600 }],
        },
      ],
    },
  ],
};

function setEnabled(enabled: boolean): void {
  const world = sandbox.world.corp(corpId)!;
  corps.set(corpId, {
    corpId,
    kind: 'dealer',
    displayName: '停用测试店',
    agentId: world.agentId,
    secret: world.secret,
    callback: { token: 't', encodingAesKey: 'k' },
    contactSync: undefined,
    timezone: 'Asia/Shanghai',
    enabled,
    retention: defaultRetentionSettings,
  });
}

const contactXml = (changeType: string, createTime: number) =>
  `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[${changeType}]]></ChangeType><UserID><![CDATA[zhangwei]]></UserID><ExternalUserID><![CDATA[wmScopeCustomer0001]]></ExternalUserID></xml>`;

async function enqueueCallback(xml: string): Promise<string> {
  const key = dedupKeyFor(corpId, xml);
  await producer.enqueue(key, sealInboundJob(pd.cipher, key, corpId, clock.nowMs(), xml));
  return key;
}

const settled = (key: string, status: string) =>
  waitFor(
    async () => {
      const doc = await InboundEventModel.findOne({ dedupKey: key }).lean();
      return doc?.status === status ? doc : undefined;
    },
    `inbound event ${status}`,
    { timeoutMs: 20_000 },
  );

beforeAll(async () => {
  db = await useTestDatabase('scope');
  sandbox = await startSandbox({ port: 0, clock, logger });
  [corpId] = sandbox.world.seed(seed).corpIds as [string];
  const ctx: WorkerContext = {
    config,
    logger,
    clock,
    redis,
    queues,
    pd,
    metrics: new Metrics(new Registry()),
    corps: { get: (id) => corps.get(id) },
    wecom: createWecomClient({
      apiBase: sandbox.url,
      redis,
      logger,
      clock,
      keyPrefix: config.redis.queuePrefix,
      timeoutMs: 3000,
    }),
  };
  const queuesRun = [QueueName.wecomInbound, QueueName.wecomWelcome, QueueName.domainEvents];
  workers = startWorkers(ctx, workerRedis, createProcessorFactories({ listCorpIds: () => [...corps.keys()] }), {
    queues: queuesRun,
    intervalMs: 600_000,
  });
});

afterAll(async () => {
  await workers?.close();
  for (const q of queues.all()) await q.obliterate({ force: true }).catch(() => undefined);
  await queues.close();
  redis.disconnect();
  workerRedis.disconnect();
  await sandbox?.stop();
  await db?.drop();
});

describe('a disabled corp', () => {
  it('skips its queued add and edit callbacks: no WeCom call, no customer, no tag; recorded as skipped', async () => {
    setEnabled(false);
    sandbox.context.calls.clear();
    const add = await enqueueCallback(contactXml('add_external_contact', 1767225700));
    const edit = await enqueueCallback(contactXml('edit_external_contact', 1767225800));
    for (const key of [add, edit])
      expect(await settled(key, 'skipped')).toMatchObject({ error: 'skipped: disabled_corp' });
    const addJob = await queues.get(QueueName.wecomInbound).getJob(add);
    expect(addJob?.returnvalue).toMatchObject({ skipped: 'disabled_corp' });
    expect(sandbox.context.calls.list({ corpId })).toEqual([]);
    expect(await CustomerModel.countDocuments({ corpId })).toBe(0);
    expect(await queues.get(QueueName.domainEvents).getJobCounts('waiting', 'delayed', 'completed')).toEqual({
      waiting: 0,
      delayed: 0,
      completed: 0,
    });
  });

  it('skips its queued domain events: the retention policy writes no 保客 tag', async () => {
    setEnabled(false);
    sandbox.context.calls.clear();
    const job = await domainEventJob.enqueue(
      queues,
      {
        type: 'vehicle.linked',
        corpId,
        sourceId: 'scope-test-1',
        occurredAt: clock.now().toISOString(),
        customerId: '0123456789abcdef01234567',
        externalUserId: 'wmScopeCustomer0001',
      },
      { jobId: 'scope-event-1' },
    );
    const done = await waitFor(
      async () =>
        (await job.getState()) === 'completed'
          ? await queues.get(QueueName.domainEvents).getJob('scope-event-1')
          : undefined,
      'domain event done',
      { timeoutMs: 20_000 },
    );
    expect(done?.returnvalue).toMatchObject({ type: 'vehicle.linked', skipped: 'disabled_corp' });
    expect(sandbox.context.calls.list({ corpId })).toEqual([]);
  });

  it('while enabled, the same kind of callback does call WeCom (the call log sees it)', async () => {
    setEnabled(true);
    sandbox.context.calls.clear();
    const add = await enqueueCallback(contactXml('add_external_contact', 1767225900));
    await settled(add, 'processed');
    expect(sandbox.context.calls.list({ corpId }).length).toBeGreaterThan(0);
    expect(await CustomerModel.countDocuments({ corpId })).toBe(1);
  });
});
