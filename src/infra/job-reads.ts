import { AsyncLocalStorage } from 'node:async_hooks';
import type { Schema } from 'mongoose';

/**
 * Reads shared by the consumers of one job (docs/scale.md §4): the `domain-events` processor runs
 * the retention policy, the rules engine, the follow-up tasks and the acquisition consumers in a
 * row, and each read the same customer's relationships and vehicles again; in the inbound lane the
 * callback's handlers and the consumers of the events they record, run in the same job, share one
 * scope (jobs/processors/inbound.processor.ts). Inside `withJobReads`
 * a read keyed by `key` runs once and its result is handed to every later consumer of the job;
 * outside it every read goes to MongoDB as before.
 *
 * The results are shared: consumers must not mutate them. A write to a collection whose reads are
 * kept here forgets the kept reads of that collection (the models' write hooks call `forgetJobReads`), so a consumer
 * never sees a row older than the job's last write; a writer that knows the rows as they are after
 * its write can hand them back with `rememberJobRead`.
 */
/**
 * Where the domain events a job's changes record go when the job runs them itself after its
 * commit (the inbound lane, docs/reliability.md "Domain events: the outbox"): `withOutbox` writes
 * their `domain_events` ledger records claimed and leased (`leaseMs`) instead of outbox records,
 * and hands the committed ones to `accept` instead of relaying them to the queue.
 */
export interface InlineEventSink {
  readonly leaseMs: number;
  accept(records: ReadonlyArray<{ id: string; event: unknown }>): void;
}

/**
 * One job's scope: its memo of reads and, in the inbound lane, its sink of inline events. One
 * AsyncLocalStorage for both (each one in use adds to every promise's cost, docs/scale.md §4).
 */
interface JobScope {
  memo: Map<string, Promise<unknown>>;
  inline?: InlineEventSink;
}

const scope = new AsyncLocalStorage<JobScope>();

/**
 * Runs `fn` with a fresh memo of reads, dropped when it returns; with `inline`, the domain events
 * its changes record go to that sink (see `InlineEventSink`).
 */
export function withJobReads<T>(fn: () => Promise<T>, inline?: InlineEventSink): Promise<T> {
  return scope.run({ memo: new Map(), inline }, fn);
}

/** The sink of the current job's inline domain events, if its lane runs them itself. */
export function inlineEventSink(): InlineEventSink | undefined {
  return scope.getStore()?.inline;
}

/** `read()` once per job and key; outside `withJobReads`, simply `read()`. A failed read is not kept. */
export function jobRead<T>(key: string, read: () => PromiseLike<T>): Promise<T> {
  // A mongoose query is a thenable that runs again on every `then`: resolved once, into a promise.
  const memo = scope.getStore()?.memo;
  if (!memo) return Promise.resolve(read());
  const kept = memo.get(key) as Promise<T> | undefined;
  if (kept) return kept;
  const pending = Promise.resolve(read());
  memo.set(key, pending);
  pending.catch(() => {
    if (memo.get(key) === pending) memo.delete(key);
  });
  return pending;
}

/** Hands the rows as they are after a write back to the job's memo (no-op outside `withJobReads`). */
export function rememberJobRead<T>(key: string, value: T): void {
  scope.getStore()?.memo.set(key, Promise.resolve(value));
}

/** Forgets the reads kept for the current job whose key starts with `prefix` (all without one). */
export function forgetJobReads(prefix?: string): void {
  const memo = scope.getStore()?.memo;
  if (!memo) return;
  if (prefix === undefined) return memo.clear();
  for (const key of memo.keys()) if (key.startsWith(prefix)) memo.delete(key);
}

const WRITES: Array<
  | 'updateOne'
  | 'updateMany'
  | 'findOneAndUpdate'
  | 'replaceOne'
  | 'deleteOne'
  | 'deleteMany'
  | 'findOneAndDelete'
  | 'findOneAndReplace'
> = [
  'updateOne',
  'updateMany',
  'findOneAndUpdate',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndDelete',
  'findOneAndReplace',
];

/** Makes every write through this schema's model forget the job's reads keyed `<prefix>…`. */
export function forgetJobReadsOnWrite(schema: Schema, prefix: string): void {
  const forget = () => forgetJobReads(prefix);
  schema.pre(WRITES, { document: false, query: true }, forget);
  schema.pre('save', forget);
  schema.pre('insertMany', forget);
  schema.pre('bulkWrite', forget);
}
