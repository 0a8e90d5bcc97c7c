import { AsyncLocalStorage } from 'node:async_hooks';
import mongoose, { type ClientSession } from 'mongoose';
import { forgetJobReads, inlineEventSink, type InlineEventSink } from '../../infra/job-reads.js';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import { domainEventJobId, domainEventSchema, type DomainEvent, type DomainEventInput } from './domain-event.js';
import { leasedRecordWrites } from './domain-event-ledger.js';
import { DomainEventRecordModel } from './domain-event-record.model.js';
import { outboxCollection, queueUnprocessed, relayOutbox } from './outbox-relay.js';

/** Records domain events inside a `withOutbox` change; returns the event id (= BullMQ job id). */
export interface EventRecorder {
  record(input: DomainEventInput, discriminator?: string): string;
}

export interface OutboxDeps {
  /** When given, the events are relayed right after the commit (best effort; the worker's relay catches up otherwise). */
  queues?: Queues;
  logger?: Logger;
}

interface Staged {
  id: string;
  event: DomainEvent;
}

/** An event committed inside a job that runs its events itself, with its ledger record's event id. */
export interface InlineEvent {
  id: string;
  event: DomainEvent;
}

/**
 * How long a leased ledger record is left to its job before the relay loop takes it over: twice
 * BullMQ's 30 s job lock (after which a dead worker's jobs are taken over too), well above the time
 * an inbound job takes to run its events, so that a live job and the relay rarely both deliver (the
 * consumers are idempotent, and the ledger skips an event once processed).
 */
export const INLINE_EVENT_LEASE_MS = 60_000;

/**
 * The sink of one job's inline events (see `withJobReads`): collects what its `withOutbox` changes
 * committed, in recorded order, for the job to run after its handlers.
 */
export class InlineEvents implements InlineEventSink {
  private events: InlineEvent[] = [];

  constructor(readonly leaseMs: number = INLINE_EVENT_LEASE_MS) {}

  accept(records: readonly InlineEvent[]): void {
    this.events.push(...records);
  }

  /** The events collected since the last call, in recorded order. */
  take(): InlineEvent[] {
    const taken = this.events;
    this.events = [];
    return taken;
  }
}

/** The events of the outermost `withOutbox` in progress, so nested changes join its transaction. */
const scope = new AsyncLocalStorage<Staged[]>();

let transactions: 'unknown' | 'supported' | 'unsupported' = 'unknown';
let asyncSessionsOn = false;

/**
 * Runs a state change and writes the domain events it records into the outbox in the same
 * MongoDB transaction (docs/reliability.md, "Domain events: the outbox"): either both are stored
 * or neither, so a handler that fails anywhere and is retried re-creates both, and an event can
 * no longer be lost between the state write and its delivery to Redis. Mongoose passes the
 * transaction's session to every model call inside `change` (AsyncLocalStorage), so the change is
 * written as usual. `change` may run more than once (the driver retries transient transaction
 * errors), so it must not call external APIs. After the commit the events are relayed to the
 * `domain-events` queue at once when `deps.queues` is given; a failure there is left to the relay.
 *
 * Inside a job that runs its events itself (`withJobReads` with an `InlineEventSink`: the inbound
 * lane), the events are written to the `domain_events` ledger instead of the outbox, in the same
 * transaction, already claimed by that job with a lease, and once committed handed to the sink
 * instead of the queue; the job runs their consumers after its handlers and finishes them, or
 * queues those whose consumers failed, and the relay loop queues any whose lease expired
 * (docs/reliability.md, "Domain events: the outbox").
 */
export async function withOutbox<T>(deps: OutboxDeps, change: (events: EventRecorder) => Promise<T>): Promise<T> {
  const outer = scope.getStore();
  if (outer) return change(recorderFor(outer)); // nested: joins the outer transaction and its relay

  let staged: Staged[] = [];
  let inserted = new Set<string>();
  let attempts = 0;
  const sink = inlineEventSink();
  const attempt = async (session?: ClientSession): Promise<T> => {
    // A retried transaction (a write conflict aborted the last attempt) must not reuse rows read
    // or handed back during the attempt that was rolled back.
    if (attempts++ > 0) forgetJobReads();
    staged = [];
    const result = await scope.run(staged, () => change(recorderFor(staged)));
    inserted = await writeOutbox(staged, session, sink);
    return result;
  };
  const result = await inTransaction(attempt, deps.logger).catch((err: unknown) => {
    // Nor may the job's later work (a caller that goes on after the failure).
    forgetJobReads();
    throw err;
  });
  if (sink && staged.length > 0) {
    // Committed: the job that owns the sink runs the events whose ledger records it inserted. One
    // recorded earlier (a replayed source) is not this job's to run: queued if not processed yet.
    sink.accept(staged.filter((s) => inserted.has(s.id)).map((s) => ({ id: s.id, event: s.event })));
    const earlier = staged.filter((s) => !inserted.has(s.id));
    if (deps.queues && earlier.length > 0)
      await queueUnprocessed(deps.queues, earlier).catch((err: Error) => {
        deps.logger?.warn(
          { events: earlier.length, err: err.message },
          'domain events recorded earlier not queued again; their queue job or the relay runs them',
        );
      });
  } else if (deps.queues && staged.length > 0) {
    // The records this change inserted are relayed from memory (they are pending: nothing else
    // has seen them before the commit); one stored earlier (a replayed source) is read back, and
    // relayed only if still pending (docs/scale.md §4).
    const relay = {
      records: staged.filter((s) => inserted.has(s.id)).map((s) => ({ _id: s.id, event: s.event })),
      ids: staged.filter((s) => !inserted.has(s.id)).map((s) => s.id),
    };
    await relayOutbox(deps.queues, relay).catch((err: Error) => {
      deps.logger?.warn(
        { events: staged.length, err: err.message },
        'domain events stored in the outbox but not yet queued; the relay retries',
      );
    });
  }
  return result;
}

function recorderFor(staged: Staged[]): EventRecorder {
  return {
    record(input, discriminator) {
      const event = domainEventSchema.parse(input);
      const id = domainEventJobId({ ...event, discriminator });
      if (!staged.some((s) => s.id === id)) staged.push({ id, event });
      return id;
    },
  };
}

/**
 * Upserts on the deterministic id: an event recorded again (a replayed source) is stored once.
 * Returns the ids this write inserted. Inside a job that runs its events itself (`inline`), the
 * records are the events' `domain_events` ledger records, leased to that job, instead of outbox ones.
 */
async function writeOutbox(
  staged: readonly Staged[],
  session?: ClientSession,
  inline?: InlineEventSink,
): Promise<Set<string>> {
  if (staged.length === 0) return new Set();
  const createdAt = new Date();
  // Through the driver, so with the transaction's session passed explicitly.
  const written = inline
    ? await DomainEventRecordModel.collection.bulkWrite(
        leasedRecordWrites(staged, createdAt, new Date(createdAt.getTime() + inline.leaseMs)),
        { ordered: true, session },
      )
    : await outboxCollection().bulkWrite(
        staged.map(({ id, event }) => ({
          updateOne: {
            filter: { _id: id },
            update: { $setOnInsert: { type: event.type, corpId: event.corpId, event, status: 'pending', createdAt } },
            upsert: true,
          },
        })),
        { ordered: true, session, ignoreUndefined: true },
      );
  return new Set(Object.keys(written.upsertedIds ?? {}).map((index) => staged[Number(index)]!.id));
}

/**
 * Runs `fn` in a transaction. A MongoDB that cannot run transactions (a standalone mongod, code 20)
 * runs it without one, with the outbox written right after the state: a crash between the two can
 * then lose the event, which is why production runs a replica set (docs/reliability.md).
 */
async function inTransaction<T>(fn: (session?: ClientSession) => Promise<T>, logger?: Logger): Promise<T> {
  if (transactions === 'unsupported') return fn();
  if (!asyncSessionsOn) {
    mongoose.set('transactionAsyncLocalStorage', true);
    asyncSessionsOn = true;
  }
  try {
    const result = await mongoose.connection.transaction((session) => fn(session));
    transactions = 'supported';
    return result;
  } catch (err) {
    if (transactions === 'unknown' && (err as { code?: unknown }).code === 20) {
      transactions = 'unsupported';
      logger?.error(
        { alert: true },
        'MongoDB does not support transactions (standalone server): domain events are written after their state change, without atomicity; run a replica set',
      );
      return fn();
    }
    throw err;
  }
}
