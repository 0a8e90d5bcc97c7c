import { AsyncLocalStorage } from 'node:async_hooks';
import mongoose, { type ClientSession } from 'mongoose';
import { forgetJobReads } from '../../infra/job-reads.js';
import type { Logger } from '../../infra/logger.js';
import type { Queues } from '../../queues/queue-factory.js';
import { domainEventJobId, domainEventSchema, type DomainEvent, type DomainEventInput } from './domain-event.js';
import { outboxCollection, relayOutbox } from './outbox-relay.js';

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
 */
export async function withOutbox<T>(deps: OutboxDeps, change: (events: EventRecorder) => Promise<T>): Promise<T> {
  const outer = scope.getStore();
  if (outer) return change(recorderFor(outer)); // nested: joins the outer transaction and its relay

  let staged: Staged[] = [];
  let inserted = new Set<string>();
  let attempts = 0;
  const attempt = async (session?: ClientSession): Promise<T> => {
    // A retried transaction (a write conflict aborted the last attempt) must not reuse rows read
    // or handed back during the attempt that was rolled back.
    if (attempts++ > 0) forgetJobReads();
    staged = [];
    const result = await scope.run(staged, () => change(recorderFor(staged)));
    inserted = await writeOutbox(staged, session);
    return result;
  };
  const result = await inTransaction(attempt, deps.logger);
  if (deps.queues && staged.length > 0) {
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
 * Returns the ids this write inserted.
 */
async function writeOutbox(staged: readonly Staged[], session?: ClientSession): Promise<Set<string>> {
  if (staged.length === 0) return new Set();
  const createdAt = new Date();
  // Through the driver (outboxCollection), so with the transaction's session passed explicitly.
  const written = await outboxCollection().bulkWrite(
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
