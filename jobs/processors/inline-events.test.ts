/**
 * An inbound job runs the domain events its handlers commit itself, after them (docs/reliability.md
 * "Domain events: the outbox"): their `domain_events` records, written claimed and leased in the
 * handler's transaction (no outbox record), are finished, no `domain-events` job is made; a
 * consumer that fails sends its event to the queue, where it retries, and if the queue is away the
 * relay loop takes it; a record left leased by a job that died is queued once its lease expired; a
 * replayed source runs nothing twice. Real Redis and the dev MongoDB server.
 */
import mongoose, { Schema } from 'mongoose';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultRetentionSettings } from '../../src/domain/customers/retention-settings.js';
import type { Corp } from '../../src/domain/corps/corp.types.js';
import { domainEventJobId, type DomainEvent, type DomainEventType } from '../../src/domain/events/domain-event.js';
import { DomainEventRecordModel } from '../../src/domain/events/domain-event-record.model.js';
import { OutboxEventModel } from '../../src/domain/events/outbox-event.model.js';
import { measureOutboxLag, OutboxRelay, relayExpiredLeases } from '../../src/domain/events/outbox-relay.js';
import { InlineEvents, withOutbox } from '../../src/domain/events/outbox.js';
import { createHandlerRegistry } from '../../src/domain/inbound/handlers.js';
import { InboundEventModel } from '../../src/domain/inbound/inbound-event.model.js';
import { dedupKeyFor } from '../../src/ingest/dedup.js';
import { sealInboundJob } from '../../src/ingest/inbound-seal.js';
import { InboundProducer } from '../../src/ingest/inbound.producer.js';
import { SystemClock } from '../../src/infra/clock.js';
import { DataCipher } from '../../src/infra/data-crypto.js';
import { jobRead, rememberJobRead, withJobReads } from '../../src/infra/job-reads.js';
import { createLogger } from '../../src/infra/logger.js';
import { Metrics } from '../../src/infra/metrics.js';
import { createRedis } from '../../src/infra/redis.js';
import { Queues } from '../../src/queues/queue-factory.js';
import { QueueName } from '../../src/queues/queue-names.js';
import { testConfig } from '../../src/testing/env.js';
import { useTestDatabase } from '../../src/testing/mongo.js';
import { waitFor } from '../../src/testing/wait.js';
import { offlineWecom } from '../../src/testing/worker-deps.js';
import type { WorkerContext } from '../context.js';
import { startWorkers, type RunningWorkers } from '../worker-runner.js';
import { createDomainEventsProcessor, DomainEventRunner, type DomainEventHandler } from './domain-events.processor.js';
import { createInboundProcessor } from './inbound.processor.js';

const config = testConfig();
const logger = createLogger({ level: 'silent', name: 'test' });
const redis = createRedis({ url: config.redis.url, role: 'producer', logger });
const workerRedis = createRedis({ url: config.redis.url, role: 'worker', logger });
const queues = new Queues(redis, config.redis.queuePrefix);
const producer = new InboundProducer(queues, 3_600_000);
const cipher = new DataCipher(config.dataKeys.keys, config.dataKeys.activeId);
const corpId = 'wwinline0001';
const corp: Corp = {
  corpId,
  kind: 'dealer',
  displayName: 'inline',
  agentId: 1000002,
  secret: 's',
  callback: { token: 't', encodingAesKey: 'k' },
  contactSync: undefined,
  timezone: 'Asia/Shanghai',
  enabled: true,
  retention: defaultRetentionSettings,
};
// The callback's state change: the outbox commits with it.
const StateModel = mongoose.model(
  'InlineEventsTestState',
  new Schema({ key: { type: String, unique: true }, n: Number }, { collection: 'inline_test_state' }),
);

/** What the consumers did: `<externalUserId> <type>` per run, and what the shared read gave them. */
let ran: string[] = [];
let reads: string[] = [];
/** Consumer failures left per event type; handler failures (after its commit) left per callback. */
const consumerFailures = new Map<DomainEventType, number>();
let callbackFailuresLeft = 0;

const consumer: DomainEventHandler = {
  name: 'test-consumer',
  async handle(event) {
    reads.push(await jobRead('test/shared', () => Promise.resolve('read by the consumer')));
    const left = consumerFailures.get(event.type) ?? 0;
    if (left > 0) {
      consumerFailures.set(event.type, left - 1);
      throw new Error('consumer down');
    }
    ran.push(`${event.externalUserId} ${event.type}`);
  },
};

let ctx: WorkerContext;
let workers: RunningWorkers;
let db: Awaited<ReturnType<typeof useTestDatabase>>;

const eventOf = (type: DomainEventType, sourceId: string, ext: string): DomainEvent => ({
  type,
  corpId,
  sourceId,
  occurredAt: '2026-05-01T02:00:00.000Z',
  externalUserId: ext,
  data: {},
});
const idOf = (type: DomainEventType, sourceId: string) => domainEventJobId({ type, corpId, sourceId });

beforeAll(async () => {
  db = await useTestDatabase('inline');
  const registry = createHandlerRegistry([
    (r) =>
      r.register('change_external_contact.add_external_contact', async (event, hctx) => {
        if (event.kind !== 'change_external_contact') return;
        await withOutbox({ queues: hctx.queues, logger }, async (events) => {
          await StateModel.updateOne({ key: event.externalUserId }, { $inc: { n: 1 } }, { upsert: true });
          events.record(eventOf('customer.added', hctx.dedupKey, event.externalUserId));
          events.record(eventOf('customer.became_owner', hctx.dedupKey, event.externalUserId));
        });
        // A row the callback knows as it left it: its events' consumers get it without reading.
        rememberJobRead('test/shared', 'from the callback');
        if (callbackFailuresLeft > 0) {
          callbackFailuresLeft -= 1;
          throw new Error('handler failed after its commit');
        }
      }),
  ]);
  ctx = {
    config,
    logger,
    clock: new SystemClock(),
    redis,
    queues,
    metrics: new Metrics(new Registry()),
    corps: { get: (id) => (id === corpId ? corp : undefined) },
    ...offlineWecom(config, logger),
  };
  const inbound = createInboundProcessor(registry, { events: () => [consumer] });
  workers = startWorkers(
    ctx,
    workerRedis,
    [
      (c) => ({ ...inbound(c), options: { settings: { backoffStrategy: () => 10 } } }),
      createDomainEventsProcessor([consumer]),
    ],
    { queues: [QueueName.wecomInbound, QueueName.domainEvents], intervalMs: 600_000 },
  );
});

afterAll(async () => {
  await workers?.close();
  for (const q of queues.all()) await q.obliterate({ force: true }).catch(() => undefined);
  await queues.close();
  redis.disconnect();
  workerRedis.disconnect();
  await db?.drop();
});

beforeEach(() => {
  ran = [];
  reads = [];
  consumerFailures.clear();
  callbackFailuresLeft = 0;
});

const addXml = (ext: string) =>
  `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1735700000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[sales.alice]]></UserID><ExternalUserID><![CDATA[${ext}]]></ExternalUserID></xml>`;

async function add(ext: string): Promise<string> {
  const xml = addXml(ext);
  const key = dedupKeyFor(corpId, xml);
  await producer.enqueue(key, sealInboundJob(cipher, key, corpId, Date.now(), xml));
  // Done when its job completed (the ledger says processed before the job runs the events).
  await waitFor(
    async () => (await queues.get(QueueName.wecomInbound).getJob(key))?.finishedOn,
    'callback job completed',
  );
  expect((await InboundEventModel.findOne({ dedupKey: key }).lean())?.status).toBe('processed');
  return key;
}

const ledger = (eventId: string) => DomainEventRecordModel.findOne({ eventId }).lean();
const outbox = (eventId: string) => OutboxEventModel.findById(eventId).lean();
const domainJob = (eventId: string) => queues.get(QueueName.domainEvents).getJob(eventId);

describe('the domain events of a callback', () => {
  it('run in its inbound job after its handlers: ledger processed, no outbox record, no domain-events job, reads shared', async () => {
    const key = await add('wmInline0001');
    const ids = [idOf('customer.added', key), idOf('customer.became_owner', key)];
    expect(ran).toEqual(['wmInline0001 customer.added', 'wmInline0001 customer.became_owner']);
    expect(reads).toEqual(['from the callback', 'from the callback']);
    for (const id of ids) {
      const record = await ledger(id);
      expect(record).toMatchObject({ status: 'processed', attempts: 1, externalUserId: 'wmInline0001', sourceId: key });
      expect(record?.processedAt).toBeInstanceOf(Date);
      expect(record?.leaseUntil).toBeUndefined();
      expect(await outbox(id)).toBeNull();
      expect(await domainJob(id)).toBeUndefined();
    }
    const job = await queues.get(QueueName.wecomInbound).getJob(key);
    expect(job?.returnvalue).toMatchObject({ duplicate: false, events: { processed: 2, duplicates: 0, queued: 0 } });
  });

  it('a failing consumer: its event is recorded failed, queued and retried on domain-events; the callback succeeds', async () => {
    consumerFailures.set('customer.became_owner', 1);
    const key = await add('wmInline0002');
    const owner = idOf('customer.became_owner', key);
    const job = await queues.get(QueueName.wecomInbound).getJob(key);
    expect(job?.returnvalue).toMatchObject({ events: { processed: 1, duplicates: 0, queued: 1 } });
    // The inline attempt ran and failed; the queued job waits the queue's first backoff.
    expect(await domainJob(owner)).toBeDefined();
    expect(await domainJob(idOf('customer.added', key))).toBeUndefined();
    const done = await waitFor(async () => {
      const r = await ledger(owner);
      return r?.status === 'processed' ? r : undefined;
    }, 'the queued event processed');
    expect(done.attempts).toBe(2);
    expect(done.leaseUntil).toBeUndefined();
    expect(ran).toEqual(['wmInline0002 customer.added', 'wmInline0002 customer.became_owner']);
    expect(await outbox(owner)).toBeNull();
  });

  it('a callback whose handler fails after its commit: its events go to the queue at once and run once', async () => {
    callbackFailuresLeft = 1;
    const key = await add('wmInline0003');
    const ids = [idOf('customer.added', key), idOf('customer.became_owner', key)];
    for (const id of ids)
      await waitFor(async () => (await ledger(id))?.status === 'processed', 'queued event processed');
    expect((await InboundEventModel.findOne({ dedupKey: key }).lean())?.attempts).toBe(2);
    for (const id of ids) expect(await domainJob(id)).toBeDefined();
    expect(ran.sort()).toEqual(['wmInline0003 customer.added', 'wmInline0003 customer.became_owner']);
  });

  it('a record left leased by a job that died is queued once its lease expired, counted in the lag, and run once', async () => {
    // The job commits its change and dies before running its events.
    const sink = new InlineEvents(30_000);
    await withJobReads(
      () =>
        withOutbox({ queues, logger }, async (events) => {
          await StateModel.updateOne({ key: 'wmInline0004' }, { $inc: { n: 1 } }, { upsert: true });
          events.record(eventOf('customer.added', 'died-0004', 'wmInline0004'));
        }),
      sink,
    );
    const id = idOf('customer.added', 'died-0004');
    expect(sink.take().map((e) => e.id)).toEqual([id]);
    expect(await ledger(id)).toMatchObject({ status: 'processing', attempts: 1 });
    expect(await outbox(id)).toBeNull();
    const now = Date.now();
    const relay = new OutboxRelay({ queues, logger, nowMs: () => now });
    await relay.runOnce();
    expect(await ledger(id)).toMatchObject({ status: 'processing' });
    expect(await domainJob(id)).toBeUndefined();
    // Past the lease it waits for the relay, and the lag counts from the lease's end.
    const lag = await measureOutboxLag(now + 40_000);
    expect(lag.pending).toBe(1);
    expect(lag.oldestAgeS).toBeGreaterThanOrEqual(9);
    expect(lag.oldestAgeS).toBeLessThan(11);
    const late = new OutboxRelay({ queues, logger, nowMs: () => now + 40_000 });
    expect((await late.runOnce()).lag).toEqual({ pending: 0, oldestAgeS: 0 });
    expect(await domainJob(id)).toBeDefined();
    // Moved: a later pass does not queue it again.
    expect(await relayExpiredLeases(queues, { now: new Date(now + 80_000) })).toBe(0);
    const done = await waitFor(async () => {
      const r = await ledger(id);
      return r?.status === 'processed' ? r : undefined;
    }, 'relayed event processed');
    expect(done).toMatchObject({ attempts: 2, externalUserId: 'wmInline0004', sourceId: 'died-0004' });
    expect(done.leaseUntil).toBeUndefined();
    expect(ran).toEqual(['wmInline0004 customer.added']);
  });

  it('a consumer that fails while the queue is away: recorded failed with its lease ended, and the relay loop queues it', async () => {
    consumerFailures.set('customer.added', 1);
    const sink = new InlineEvents();
    await withJobReads(
      () =>
        withOutbox({ logger }, async (events) => {
          events.record(eventOf('customer.added', 'noqueue-0006', 'wmInline0006'));
        }),
      sink,
    );
    const id = idOf('customer.added', 'noqueue-0006');
    const down = {
      ...ctx,
      queues: {
        get: () => ({ addBulk: () => Promise.reject(new Error('redis away')) }),
      } as unknown as WorkerContext['queues'],
    };
    const result = await withJobReads(() => new DomainEventRunner(down, [consumer]).runInline(sink, logger), sink);
    expect(result).toEqual({ processed: 0, duplicates: 0, queued: 0 });
    expect(await ledger(id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await domainJob(id)).toBeUndefined();
    // Nothing lost: its lease ended, the next relay pass queues it, and it runs there.
    expect(await relayExpiredLeases(queues)).toBe(1);
    const done = await waitFor(async () => {
      const r = await ledger(id);
      return r?.status === 'processed' ? r : undefined;
    }, 'the relayed event processed');
    expect(done.attempts).toBe(2);
    expect(ran).toEqual(['wmInline0006 customer.added']);
  });

  it('a replayed source of an event run inline runs nothing again; an unprocessed one is queued and run once', async () => {
    const key = await add('wmInline0005');
    const added = idOf('customer.added', key);
    const owner = idOf('customer.became_owner', key);
    expect(ran).toHaveLength(2);
    const before = await ledger(added);
    // The same source recorded again in a job that runs its events (a replayed callback).
    const replay = async () => {
      const sink = new InlineEvents();
      await withJobReads(
        () =>
          withOutbox({ queues, logger }, async (events) => {
            events.record(eventOf('customer.added', key, 'wmInline0005'));
            events.record(eventOf('customer.became_owner', key, 'wmInline0005'));
          }),
        sink,
      );
      return withJobReads(() => new DomainEventRunner(ctx, [consumer]).runInline(sink, logger), sink);
    };
    expect(await replay()).toEqual({ processed: 0, duplicates: 0, queued: 0 });
    expect(await ledger(added)).toEqual(before);
    expect(await domainJob(added)).toBeUndefined();
    expect(ran).toEqual(['wmInline0005 customer.added', 'wmInline0005 customer.became_owner']);
    // One not processed (its earlier attempt failed): queued, run there once.
    await DomainEventRecordModel.updateOne({ eventId: owner }, { $set: { status: 'failed' } });
    await replay();
    await waitFor(async () => (await ledger(owner))?.status === 'processed', 'the replayed event processed');
    expect(ran).toEqual([
      'wmInline0005 customer.added',
      'wmInline0005 customer.became_owner',
      'wmInline0005 customer.became_owner',
    ]);
    expect(await ledger(added)).toMatchObject({ status: 'processed', attempts: 1 });
  });
});
