/**
 * The outbox against the dev MongoDB server and real Redis: the crash points between the state
 * write and the relay (docs/reliability.md, "Domain events: the outbox").
 */
import { MongoServerError } from 'mongodb';
import mongoose, { Schema } from 'mongoose';
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { Alerter } from '../../infra/alerts.js';
import { jobRead, withJobReads } from '../../infra/job-reads.js';
import { createLogger } from '../../infra/logger.js';
import { createRedis, waitForRedis } from '../../infra/redis.js';
import { Queues } from '../../queues/queue-factory.js';
import { QueueName } from '../../queues/queue-names.js';
import { uniqueName } from '../../testing/env.js';
import { startPrivateRedis } from '../../testing/redis-server.js';
import { waitFor } from '../../testing/wait.js';
import { useTestStores } from '../../testing/stores.js';
import { domainEventJobId, type DomainEventInput } from './domain-event.js';
import { eventOfRecord, finishEvents, type LedgerRow } from './domain-event-ledger.js';
import { DomainEventRecordModel } from './domain-event-record.model.js';
import { OutboxEventModel } from './outbox-event.model.js';
import { OutboxRelay, relayExpiredLeases, relayOutbox } from './outbox-relay.js';
import { InlineEvents, withOutbox } from './outbox.js';

const logger = createLogger({ level: 'silent', name: 'test' });
// A stand-in for a state change: the outbox must commit and roll back with it.
const StateModel = mongoose.model(
  'OutboxTestState',
  new Schema({ key: { type: String, unique: true }, n: Number }, { collection: 'outbox_test_state' }),
);

let queues: Queues;
useTestStores('outbox', (stores) => (queues = stores.queues));

const event = (sourceId: string): DomainEventInput => ({
  type: 'customer.added',
  corpId: 'wwOutboxCorp',
  sourceId,
  occurredAt: '2026-05-01T02:00:00.000Z',
  externalUserId: 'wmOutboxFake01',
  userid: 'advisor.a',
  data: { state: null },
});

beforeEach(async () => {
  await Promise.all([
    OutboxEventModel.deleteMany({}),
    DomainEventRecordModel.deleteMany({ corpId: 'wwOutboxCorp' }),
    StateModel.deleteMany({}),
    queues.get(QueueName.domainEvents).obliterate({ force: true }),
  ]);
});

const jobIds = async (q: Queues = queues) =>
  (await q.get(QueueName.domainEvents).getJobs(['waiting', 'prioritized', 'delayed'])).map((j) => j.id).sort();

describe('the outbox', () => {
  it('stores the event with the state change and relays it at once, job id = event id', async () => {
    const id = await withOutbox({ queues, logger }, async (events) => {
      await StateModel.create({ key: 'a', n: 1 });
      return events.record(event('inbound-a'), 'wmOutboxFake01/advisor.a');
    });
    expect(id).toBe(
      domainEventJobId({
        type: 'customer.added',
        corpId: 'wwOutboxCorp',
        sourceId: 'inbound-a',
        discriminator: 'wmOutboxFake01/advisor.a',
      }),
    );
    expect(await jobIds()).toEqual([id]);
    expect(await OutboxEventModel.findById(id).lean()).toMatchObject({
      status: 'relayed',
      type: 'customer.added',
      corpId: 'wwOutboxCorp',
    });
  });

  it('a change that fails stores neither its state nor its events; the retry stores both (regression: the event was lost on retry)', async () => {
    const change = (fail: boolean) =>
      withOutbox({ queues, logger }, async (events) => {
        const before = await StateModel.findOne({ key: 'b' }).lean();
        await StateModel.updateOne({ key: 'b' }, { $set: { n: 1 } }, { upsert: true });
        if (!before) events.record(event('inbound-b')); // like applyContactSnapshot: only for a row inserted now
        if (fail) throw new Error('handler crashed after the state write');
      });
    await expect(change(true)).rejects.toThrow('handler crashed');
    expect(await StateModel.countDocuments()).toBe(0);
    expect(await OutboxEventModel.countDocuments()).toBe(0);
    await change(false);
    expect(await StateModel.countDocuments()).toBe(1);
    expect(await jobIds()).toEqual([
      domainEventJobId({ type: 'customer.added', corpId: 'wwOutboxCorp', sourceId: 'inbound-b' }),
    ]);
  });

  it('crash after the state write, before the relay: the relay delivers the pending event', async () => {
    // No queues: the process died after the commit, before its own relay.
    const id = await withOutbox({}, async (events) => {
      await StateModel.create({ key: 'c', n: 1 });
      return events.record(event('inbound-c'));
    });
    expect(await OutboxEventModel.findById(id).lean()).toMatchObject({ status: 'pending' });
    expect(await jobIds()).toEqual([]);
    const relay = new OutboxRelay({ queues, logger });
    const status = await relay.runOnce();
    expect(status.lag).toEqual({ pending: 0, oldestAgeS: 0 });
    expect(await jobIds()).toEqual([id]);
    expect(await OutboxEventModel.findById(id).lean()).toMatchObject({ status: 'relayed' });
  });

  it('relay crash after adding to Redis, before marking: the next pass adds nothing twice and marks it', async () => {
    const id = await withOutbox({}, async (events) => events.record(event('inbound-d')));
    const record = await OutboxEventModel.findById(id).lean();
    // What the crashed pass did: the job is in Redis, the record still pending.
    await queues.get(QueueName.domainEvents).add(record!.type, record!.event as object, { jobId: id });
    expect(await relayOutbox(queues)).toBe(1);
    expect(await jobIds()).toEqual([id]);
    expect(await OutboxEventModel.findById(id).lean()).toMatchObject({ status: 'relayed' });
    expect(await relayOutbox(queues)).toBe(0);
  });

  it('the same event recorded by a replayed source is stored and queued once', async () => {
    const record = () =>
      withOutbox({ queues, logger }, async (events) => {
        events.record(event('inbound-e'));
        events.record(event('inbound-e'));
      });
    await record();
    await record();
    expect(await OutboxEventModel.countDocuments()).toBe(1);
    expect((await jobIds()).length).toBe(1);
  });

  it('a replayed source whose event is still pending: the post-commit relay reads it back and queues it', async () => {
    // The first run died before its own relay; the replay inserts nothing and relays the stored record.
    const id = await withOutbox({}, async (events) => events.record(event('inbound-g')));
    await withOutbox({ queues, logger }, async (events) => events.record(event('inbound-g')));
    expect(await jobIds()).toEqual([id]);
    expect(await OutboxEventModel.findById(id).lean()).toMatchObject({ status: 'relayed' });
    expect(await OutboxEventModel.countDocuments()).toBe(1);
  });

  it('inside a job that runs its events itself: its ledger record is written claimed and leased, handed to its sink, nothing queued', async () => {
    const sink = new InlineEvents(45_000);
    const before = Date.now();
    const id = await withJobReads(
      () =>
        withOutbox({ queues, logger }, async (events) => {
          await StateModel.create({ key: 'inline', n: 1 });
          return events.record({ ...event('inbound-inline'), relationshipId: 'rel-1' });
        }),
      sink,
    );
    const [taken] = sink.take();
    expect(taken?.id).toBe(id);
    expect(await jobIds()).toEqual([]);
    // One record, in the ledger: no outbox record.
    expect(await OutboxEventModel.countDocuments()).toBe(0);
    const stored = await DomainEventRecordModel.findOne({ eventId: id }).lean();
    expect(stored).toMatchObject({
      status: 'processing',
      attempts: 1,
      corpId: 'wwOutboxCorp',
      relationshipId: 'rel-1',
    });
    expect(stored?.leaseUntil?.getTime()).toBeGreaterThanOrEqual(before + 45_000);
    // The record alone gives back the event the job runs.
    expect(eventOfRecord(stored as unknown as LedgerRow)).toEqual(taken?.event);
    // Not the relay's before the lease ends.
    expect(await relayOutbox(queues)).toBe(0);
    expect(await relayExpiredLeases(queues)).toBe(0);
    // Past it, queued once (job id = event id), then left alone.
    expect(await relayExpiredLeases(queues, { now: new Date(before + 46_000) })).toBe(1);
    expect(await jobIds()).toEqual([id]);
    expect(await DomainEventRecordModel.findOne({ eventId: id }).lean()).toMatchObject({ status: 'queued' });
    expect((await DomainEventRecordModel.findOne({ eventId: id }).lean())?.leaseUntil).toBeUndefined();
    expect(await relayExpiredLeases(queues, { now: new Date(before + 120_000) })).toBe(0);
  });

  it('inside such a job, a replayed source: a processed record is left as it is and nothing runs; an unprocessed one is queued', async () => {
    const sink = new InlineEvents();
    const inJob = (sourceId: string) =>
      withJobReads(() => withOutbox({ queues, logger }, async (events) => events.record(event(sourceId))), sink);
    const done = await inJob('inbound-replay-done');
    const open = await inJob('inbound-replay-open');
    expect(sink.take().map((e) => e.id)).toEqual([done, open]);
    await finishEvents([{ eventId: done, corpId: 'wwOutboxCorp' }], new Date());
    const processed = await DomainEventRecordModel.findOne({ eventId: done }).lean();
    await inJob('inbound-replay-done');
    await inJob('inbound-replay-open');
    expect(sink.take()).toEqual([]);
    // The processed record is untouched (insert only); the unprocessed one goes to the queue.
    expect(await DomainEventRecordModel.findOne({ eventId: done }).lean()).toEqual(processed);
    expect(processed).toMatchObject({ status: 'processed', attempts: 1 });
    expect(processed?.leaseUntil).toBeUndefined();
    expect(await jobIds()).toEqual([open]);
    expect(await DomainEventRecordModel.countDocuments({ eventId: { $in: [done, open] } })).toBe(2);
  });

  it('a nested change joins the outer transaction: both roll back together', async () => {
    await expect(
      withOutbox({ queues, logger }, async (outer) => {
        outer.record(event('inbound-f1'));
        await withOutbox({ queues, logger }, async (inner) => {
          await StateModel.create({ key: 'f', n: 1 });
          inner.record(event('inbound-f2'));
        });
        throw new Error('outer failed');
      }),
    ).rejects.toThrow('outer failed');
    expect(await StateModel.countDocuments()).toBe(0);
    expect(await OutboxEventModel.countDocuments()).toBe(0);
  });
});

describe('the relay while Redis is down', () => {
  it('keeps events pending, reports lag and alerts, and delivers them when Redis returns', async () => {
    // Stops Redis: a private instance, never the shared one.
    const server = await startPrivateRedis();
    const producer = createRedis({ url: server.url, role: 'producer', logger });
    await waitForRedis(producer, server.url, 5000);
    const privateQueues = new Queues(producer, uniqueName('obdown'));
    let now = Date.now();
    const registry = new Registry();
    const alerted: string[] = [];
    const alerts = new Alerter({
      logger,
      minIntervalMs: 60_000,
      nowMs: () => now,
      sink: async (text) => void alerted.push(text),
    });
    const relay = new OutboxRelay({ queues: privateQueues, logger, registry, alerts, lagAlertS: 60, nowMs: () => now });
    try {
      await privateQueues.prepare([QueueName.domainEvents], 5000);
      await server.kill();
      // The change commits although Redis is away; its own relay fails quietly.
      const id = await withOutbox({ queues: privateQueues, logger }, async (events) => {
        await StateModel.create({ key: 'g', n: 1 });
        return events.record(event('inbound-g'));
      });
      expect(await OutboxEventModel.findById(id).lean()).toMatchObject({ status: 'pending' });

      now += 120_000; // two minutes later, Redis still down
      const down = await relay.runOnce();
      expect(down.lastError).toBeTruthy();
      expect(down.lag?.pending).toBe(1);
      expect(down.lag?.oldestAgeS).toBeGreaterThan(60);
      expect(alerted.some((text) => text.includes('outbox_lag'))).toBe(true);
      expect(await registry.getSingleMetricAsString('scrm_outbox_relay_lag_seconds')).toMatch(
        /scrm_outbox_relay_lag_seconds \d{3}/,
      );

      await server.restart();
      const up = await waitFor(
        async () => {
          const s = await relay.runOnce();
          return s.lag?.pending === 0 ? s : undefined;
        },
        'the relay to deliver after Redis returned',
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(up.lastError).toBeUndefined();
      expect(await jobIds(privateQueues)).toEqual([id]);
      expect(await OutboxEventModel.findById(id).lean()).toMatchObject({ status: 'relayed' });
    } finally {
      await relay.stop();
      await privateQueues.close();
      producer.disconnect();
      await server.stop();
    }
  }, 40_000);
});

describe('a transaction retried after a write conflict', () => {
  it('the outbox write is in the transaction: a commit that fails after it leaves neither state nor event', async () => {
    await expect(
      withOutbox({ logger }, async (events) => {
        await StateModel.create([{ key: 'uncommitted', n: 1 }]);
        events.record(event('uncommitted-1'));
        // The change's session (mongoose's transaction scope): its commit fails after the outbox
        // write, which the driver takes with the session passed explicitly.
        const store = (
          mongoose as unknown as { transactionAsyncLocalStorage?: { getStore(): { session?: mongoose.ClientSession } } }
        ).transactionAsyncLocalStorage?.getStore();
        const session = store?.session;
        expect(session).toBeDefined();
        if (session)
          session.commitTransaction = async () => {
            await session.abortTransaction();
            throw new MongoServerError({ message: 'commit lost', code: 8 });
          };
      }),
    ).rejects.toThrow('commit lost');
    expect(await StateModel.countDocuments({ key: 'uncommitted' })).toBe(0);
    expect(await OutboxEventModel.countDocuments({ _id: domainEventJobId(event('uncommitted-1')) })).toBe(0);
  });

  it('reads afresh what its rolled-back attempt had kept for the job, and stores its state and events once', async () => {
    await withJobReads(async () => {
      let tries = 0;
      const seen: string[] = [];
      await withOutbox({ logger }, async (events) => {
        tries++;
        seen.push(await jobRead('rows:retry', () => Promise.resolve(`read in attempt ${tries}`)));
        await StateModel.create([{ key: 'retried', n: tries }]);
        events.record(event('retried-1'));
        if (tries === 1)
          throw new MongoServerError({
            message: 'Write conflict during plan execution',
            code: 112,
            errorLabels: ['TransientTransactionError'],
          });
      });
      expect(seen).toEqual(['read in attempt 1', 'read in attempt 2']);
    });
    expect(await StateModel.find({ key: 'retried' }, { _id: 0, n: 1 }).lean()).toEqual([{ n: 2 }]);
    expect(await OutboxEventModel.countDocuments({ _id: domainEventJobId(event('retried-1')) })).toBe(1);
  });
});
