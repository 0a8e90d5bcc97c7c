import type { DomainEvent } from './domain-event.js';
import { DomainEventRecordModel } from './domain-event-record.model.js';

/**
 * The `domain_events` ledger of the worker (docs/architecture.md §4), claimed and finished in
 * batches: every event that the process's `domain-events` jobs claim while an earlier claim is on
 * its way to MongoDB is claimed with the next one, in one `insertMany` (unordered), and the events
 * they finish meanwhile are marked processed in one `updateMany` per corp. A burst of events (the
 * `lead.created` of an intake batch) then costs two commands per batch instead of two per event.
 *
 * A claim's insert that collides with the unique event id (E11000) means the event was seen
 * before: it is claimed again, one command for that event, only if it is not processed yet (a
 * failed or interrupted attempt), exactly as a lone claim would; a processed one is a duplicate.
 * A batch command that fails rejects every claim or finish in it: their jobs retry (at least once;
 * the consumers are idempotent).
 */

type Waiter<T, R> = { item: T; resolve: (r: R) => void; reject: (err: unknown) => void };

/**
 * Group commit: items submitted while a command is on its way wait and go together in the next
 * one (at most `max`); the first item of an idle batcher waits one turn of the event loop so that
 * what starts beside it joins it.
 */
export class GroupCommit<T, R> {
  private waiting: Array<Waiter<T, R>> = [];
  private draining = false;
  /** Commands run and items they carried (for tests and the bench's figures). */
  readonly stats = { commands: 0, items: 0 };

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly max = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      await new Promise<void>((r) => setImmediate(r));
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.max);
        this.stats.commands++;
        this.stats.items += batch.length;
        try {
          const out = await this.run(batch.map((w) => w.item));
          batch.forEach((w, i) => w.resolve(out[i] as R));
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

export interface LedgerClaim {
  eventId: string;
  event: DomainEvent;
}

const DUPLICATE_KEY = 11000;

/** The ids of an event the trace keeps: every optional id of `domainEventSchema`. */
const TRACE_IDS = ['customerId', 'externalUserId', 'userid', 'relationshipId', 'vehicleId', 'taskId'] as const;

/** The fields of the trace, as a lone claim sets them: every field of the event (`eventOfRecord`). */
export function traceOf(event: DomainEvent): Record<string, unknown> {
  const trace: Record<string, unknown> = {
    type: event.type,
    sourceId: event.sourceId,
    occurredAt: new Date(event.occurredAt),
    data: event.data ?? {},
  };
  // Absent ids stay absent (the driver would store an undefined as null).
  for (const key of TRACE_IDS) if (event[key] !== undefined) trace[key] = event[key];
  return trace;
}

/** A ledger record as the driver returns it (the fields `traceOf` sets). */
export interface LedgerRow {
  eventId: string;
  corpId: string;
  type: DomainEvent['type'];
  sourceId: string;
  occurredAt: Date;
  data?: DomainEvent['data'];
  customerId?: string;
  externalUserId?: string;
  userid?: string;
  relationshipId?: string;
  vehicleId?: string;
  taskId?: string;
}

/** The event a ledger record was written for (the relay loop queues it from the record alone). */
export function eventOfRecord(row: LedgerRow): DomainEvent {
  const event: DomainEvent = {
    type: row.type,
    corpId: row.corpId,
    sourceId: row.sourceId,
    occurredAt: row.occurredAt.toISOString(),
    data: row.data ?? {},
  };
  for (const key of TRACE_IDS) if (typeof row[key] === 'string') event[key] = row[key];
  return event;
}

/**
 * The in-transaction write of the events a job runs itself (docs/reliability.md, "Domain events:
 * the outbox"): each record inserted already claimed by that job, leased until `leaseUntil`; one
 * that exists (a replayed source) is left as it is (insert only).
 */
export function leasedRecordWrites(
  events: ReadonlyArray<{ id: string; event: DomainEvent }>,
  now: Date,
  leaseUntil: Date,
) {
  return events.map(({ id, event }) => ({
    updateOne: {
      filter: { eventId: id, corpId: event.corpId },
      update: {
        $setOnInsert: {
          ...traceOf(event),
          status: 'processing',
          attempts: 1,
          leaseUntil,
          createdAt: now,
          updatedAt: now,
        },
      },
      upsert: true,
    },
  }));
}

/**
 * Claims one event that was recorded before (a retry, a redelivery): it matches only while not
 * processed, and its upsert then collides with the unique event id (E11000) when it was: false.
 */
async function claimAgain({ eventId, event }: LedgerClaim): Promise<boolean> {
  return DomainEventRecordModel.updateOne(
    { eventId, corpId: event.corpId, status: { $ne: 'processed' } },
    // A leased record (written by a job that runs its events itself) is this claim's from now on.
    {
      $set: { ...traceOf(event), status: 'processing' },
      $inc: { attempts: 1 },
      $unset: { error: 1, leaseUntil: 1 },
    },
    { upsert: true },
  ).then(
    () => true,
    (err: unknown) => {
      if ((err as { code?: unknown }).code === DUPLICATE_KEY) return false;
      throw err;
    },
  );
}

/** Event ids whose insert collided with a stored record; throws on any other write error. */
function collisions(err: unknown, claims: readonly LedgerClaim[]): Set<string> {
  const writeErrors = (err as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0) throw err;
  const ids = new Set<string>();
  for (const w of list as Array<{ code?: number; index?: number; err?: { code?: number; index?: number } }>) {
    const code = w.code ?? w.err?.code;
    const index = w.index ?? w.err?.index;
    const claim = index === undefined ? undefined : claims[index];
    if (code !== DUPLICATE_KEY || !claim) throw err;
    ids.add(claim.eventId);
  }
  return ids;
}

/** Claims a batch: one unordered insert; the colliding ones claimed again one by one. True = claimed. */
export async function claimEvents(claims: readonly LedgerClaim[], now: Date = new Date()): Promise<boolean[]> {
  if (claims.length === 0) return [];
  let seen = new Set<string>();
  try {
    await DomainEventRecordModel.collection.insertMany(
      claims.map(({ eventId, event }) => ({
        eventId,
        corpId: event.corpId,
        ...traceOf(event),
        status: 'processing',
        attempts: 1,
        createdAt: now,
        updatedAt: now,
      })),
      { ordered: false },
    );
  } catch (err) {
    seen = collisions(err, claims);
  }
  return Promise.all(claims.map((c) => (seen.has(c.eventId) ? claimAgain(c) : true)));
}

/** Marks a batch processed (a leased record's lease ends with it): one `updateMany` per corp. */
export async function finishEvents(
  items: ReadonlyArray<{ eventId: string; corpId: string }>,
  now: Date,
): Promise<void[]> {
  const byCorp = new Map<string, string[]>();
  for (const { eventId, corpId } of items) byCorp.set(corpId, [...(byCorp.get(corpId) ?? []), eventId]);
  await Promise.all(
    [...byCorp].map(([corpId, eventIds]) =>
      DomainEventRecordModel.updateMany(
        { corpId, eventId: { $in: eventIds } },
        { $set: { status: 'processed', processedAt: now }, $unset: { leaseUntil: 1 } },
      ),
    ),
  );
  return items.map(() => undefined);
}

/**
 * Records a failed attempt (its job retries with the queue's backoff). With `leaseEnds` (an event
 * its job runs itself, about to be queued), a leased record's lease ends then: should the queueing
 * fail, the relay loop takes it over at its next pass.
 */
export async function failEvent(eventId: string, corpId: string, err: unknown, leaseEnds?: Date): Promise<void> {
  await DomainEventRecordModel.updateOne(
    leaseEnds ? { eventId, corpId, leaseUntil: { $exists: true } } : { eventId, corpId },
    {
      $set: {
        status: 'failed',
        error: (err as Error).message.slice(0, 500),
        ...(leaseEnds ? { leaseUntil: leaseEnds } : {}),
      },
    },
  );
}

/**
 * Hands leased records to the `domain-events` queue once their jobs were added there: `queued`,
 * lease cleared, so the relay loop leaves them alone. One the queue's job claimed or finished
 * meanwhile (its lease cleared) is left as it is. One `updateMany` per corp.
 */
export async function markQueued(
  items: ReadonlyArray<{ eventId: string; corpId: string }>,
  now: Date = new Date(),
): Promise<void> {
  const byCorp = new Map<string, string[]>();
  for (const { eventId, corpId } of items) byCorp.set(corpId, [...(byCorp.get(corpId) ?? []), eventId]);
  await Promise.all(
    [...byCorp].map(([corpId, eventIds]) =>
      DomainEventRecordModel.collection.updateMany(
        { corpId, eventId: { $in: eventIds }, leaseUntil: { $exists: true }, status: { $ne: 'processed' } },
        { $set: { status: 'queued', updatedAt: now }, $unset: { leaseUntil: '' } },
      ),
    ),
  );
}

/** One process's ledger: claims and finishes of concurrent jobs share their commands. */
export class DomainEventLedger {
  readonly claims: GroupCommit<LedgerClaim, boolean>;
  readonly finishes: GroupCommit<{ eventId: string; corpId: string }, void>;

  constructor(now: () => Date = () => new Date()) {
    this.claims = new GroupCommit((items) => claimEvents(items, now()));
    this.finishes = new GroupCommit((items) => finishEvents(items, now()));
  }

  /** True when this attempt runs the event's consumers; false when it was processed already. */
  claim(eventId: string, event: DomainEvent): Promise<boolean> {
    return this.claims.submit({ eventId, event });
  }

  finish(eventId: string, corpId: string): Promise<void> {
    return this.finishes.submit({ eventId, corpId });
  }
}
