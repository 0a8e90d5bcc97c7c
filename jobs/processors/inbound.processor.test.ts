import { Registry } from 'prom-client';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InboundEventModel } from '../../src/domain/inbound/inbound-event.model.js';
import { createHandlerRegistry } from '../../src/domain/inbound/handlers.js';
import type { TypedEvent } from '../../src/wecom/events.js';
import { InboundProducer } from '../../src/ingest/inbound.producer.js';
import { dedupKeyFor } from '../../src/ingest/dedup.js';
import { sealInboundJob } from '../../src/ingest/inbound-seal.js';
import { DataCipher } from '../../src/infra/data-crypto.js';
import { SystemClock } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { Metrics } from '../../src/infra/metrics.js';
import { createRedis } from '../../src/infra/redis.js';
import { Queues } from '../../src/queues/queue-factory.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { testConfig, testMongoUri } from '../../src/testing/env.js';
import { waitFor } from '../../src/testing/wait.js';
import { offlineWecom } from '../../src/testing/worker-deps.js';
import type { WorkerContext } from '../context.js';
import { startWorkers, type RunningWorkers } from '../worker-runner.js';
import { createInboundProcessor } from './inbound.processor.js';

const config = testConfig();
const logger = createLogger({ level: 'silent', name: 'test' });
const redis = createRedis({ url: config.redis.url, role: 'producer', logger });
const workerRedis = createRedis({ url: config.redis.url, role: 'worker', logger });
const queues = new Queues(redis, config.redis.queuePrefix);
const producer = new InboundProducer(queues, 3_600_000);
const cipher = new DataCipher(config.dataKeys.keys, config.dataKeys.activeId);
const seen: TypedEvent[] = [];
let failuresLeft = 0;
let workers: RunningWorkers;

beforeAll(async () => {
  await mongoose.connect(testMongoUri(), { serverSelectionTimeoutMS: 3000 });
  await InboundEventModel.init();
  const registry = createHandlerRegistry([
    (r) =>
      r.register('change_external_contact.add_external_contact', async (event) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('transient downstream failure');
        }
        seen.push(event);
      }),
  ]);
  const ctx: WorkerContext = {
    config,
    logger,
    clock: new SystemClock(),
    redis,
    queues,
    metrics: new Metrics(new Registry()),
    ...offlineWecom(config, logger),
  };
  const factory = createInboundProcessor(registry);
  workers = startWorkers(ctx, workerRedis, [
    (c) => ({ ...factory(c), options: { settings: { backoffStrategy: () => 10 } } }),
  ]);
});

afterAll(async () => {
  await workers?.close();
  await queues
    .get(QueueName.wecomInbound)
    .obliterate({ force: true })
    .catch(() => undefined);
  await queues.close();
  redis.disconnect();
  workerRedis.disconnect();
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
});

const corpId = 'wwprocessor0001';
const addXml = (ext: string) =>
  `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1735700000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[sales.alice]]></UserID><ExternalUserID><![CDATA[${ext}]]></ExternalUserID></xml>`;

async function enqueue(xml: string) {
  const key = dedupKeyFor(corpId, xml);
  await producer.enqueue(key, sealInboundJob(cipher, key, corpId, Date.now(), xml));
  return key;
}

describe('wecom-inbound processor', () => {
  it('parses, records type and ids (no raw XML) and dispatches to the registered handler, retrying transient failures', async () => {
    failuresLeft = 2;
    const key = await enqueue(addXml('wmPROC0001'));
    const record = await waitFor(async () => {
      const doc = await InboundEventModel.findOne({ dedupKey: key }).lean();
      return doc?.status === 'processed' ? doc : undefined;
    }, 'processed inbound event');
    expect(record).toMatchObject({
      corpId,
      type: 'change_external_contact.add_external_contact',
      ids: { userId: 'sales.alice', externalUserId: 'wmPROC0001', fromUserName: 'sys' },
      attempts: 3,
    });
    expect(JSON.stringify(record)).not.toContain('<xml>');
    expect(seen.filter((e) => e.kind === 'change_external_contact' && e.externalUserId === 'wmPROC0001')).toHaveLength(
      1,
    );
  });

  it('makes a replayed job a no-op', async () => {
    const xml = addXml('wmPROC0002');
    const key = await enqueue(xml);
    await waitFor(
      async () => (await InboundEventModel.findOne({ dedupKey: key }).lean())?.status === 'processed',
      'first run',
    );
    const queue = queues.get(QueueName.wecomInbound);
    // A job enqueued before payloads were sealed (clear `xml`) still processes.
    await queue.add('callback.received', { corpId, receivedAt: Date.now(), xml }, { jobId: `${key}-replay` });
    await waitFor(async () => (await queue.getJob(`${key}-replay`))?.finishedOn, 'replay finished');
    expect((await queue.getJob(`${key}-replay`))?.returnvalue).toEqual({
      type: 'change_external_contact.add_external_contact',
      duplicate: true,
    });
    expect(seen.filter((e) => e.kind === 'change_external_contact' && e.externalUserId === 'wmPROC0002')).toHaveLength(
      1,
    );
  });

  it('records unparseable XML and fails it at once; keeps unknown types as records', async () => {
    const bad = '<xml><ToUserName>ww</ToUserName><Broken></xml>';
    const key = await enqueue(bad);
    const job = await waitFor(async () => {
      const j = await queues.get(QueueName.wecomInbound).getJob(key);
      return j?.failedReason ? j : undefined;
    }, 'failed job');
    expect(job.attemptsMade).toBe(1);
    expect(await InboundEventModel.findOne({ dedupKey: key }).lean()).toMatchObject({
      status: 'unparseable',
      type: 'unparseable',
    });

    const unknownKey = await enqueue(
      `<xml><ToUserName>${corpId}</ToUserName><FromUserName>sys</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>brand_new</Event></xml>`,
    );
    await waitFor(
      async () => (await InboundEventModel.findOne({ dedupKey: unknownKey }).lean())?.status === 'processed',
      'unknown recorded',
    );
    expect(await InboundEventModel.findOne({ dedupKey: unknownKey }).lean()).toMatchObject({ type: 'unknown' });
  });

  it('keeps the XML sealed in Redis, and refuses a payload moved to another job', async () => {
    const xml = addXml('wmPROC0003');
    const key = await enqueue(xml);
    const queue = queues.get(QueueName.wecomInbound);
    const raw = await redis.hget(`${config.redis.queuePrefix}:${QueueName.wecomInbound}:${key}`, 'data');
    expect(raw).not.toContain('wmPROC0003');
    expect(raw).not.toContain('<xml>');
    await waitFor(
      async () => (await InboundEventModel.findOne({ dedupKey: key }).lean())?.status === 'processed',
      'sealed job processed',
    );
    const { xmlSealed } = JSON.parse(raw ?? '{}') as { xmlSealed: string };
    await queue.add('callback.received', { corpId, receivedAt: Date.now(), xmlSealed }, { jobId: `${key}-moved` });
    const moved = await waitFor(async () => {
      const j = await queue.getJob(`${key}-moved`);
      return j?.failedReason ? j : undefined;
    }, 'moved payload refused');
    expect(moved.failedReason).toMatch(/does not open/);
    expect(moved.attemptsMade).toBe(1);
  });
});
