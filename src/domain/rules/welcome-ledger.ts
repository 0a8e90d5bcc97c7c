import type { AnyBulkWriteOperation, Document } from 'mongodb';
import { mongo, Types } from 'mongoose';
import { ExecutionModel } from './engine/execution.model.js';
import type { ExecutionKey } from './engine/execution.service.js';

/**
 * The welcome lane's two MongoDB commands per welcome (docs/architecture.md §5): the "welcomed
 * before" read and the execution record. They go through the driver (`Model.collection`), not
 * mongoose's query casting: every value is already of its stored type, `rule_executions` has no
 * middleware, and the record sets the schema's timestamps itself. At a campaign's peak the lane
 * runs them for every add, and mongoose's casting was a measurable share of the welcome worker's
 * CPU (docs/benchmarks.md, bench:welcome).
 */

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/**
 * The welcome lane runs many jobs at once (its processor's concurrency); the reads and records
 * asked for within a short window go to MongoDB as one command per corp (`find` with `$in`, an
 * unordered `bulkWrite`), so a stream of adds costs fewer round trips. Each caller gets its own
 * answer or error (a failed write fails only its own welcome's job).
 *
 * The windows (docs/benchmarks.md, bench:welcome): adds arrive one by one, a few milliseconds
 * apart at a campaign's peak, so batching only the calls of one event-loop turn joined almost
 * none. A read waits at most `readWindowMs` for others (it delays the welcome by that much, far
 * inside WeCom's 20 s window); a record, written after `send_welcome_msg` answered, waits at
 * most `writeWindowMs` (it delays only the job's completion). A batch that reaches `maxBatch`
 * goes out at once, so a burst is not held back. The jobs a batch answers go on together, so
 * their next Redis commands leave in one write too.
 */
export const LEDGER_BATCH = { readWindowMs: 20, writeWindowMs: 100, maxBatch: 32 } as const;

const reads = new Map<
  string,
  Array<Pending<{ ruleId: Types.ObjectId } | null> & { subject: string; occurrenceId: string; maxTimeMS: number }>
>();
let readCount = 0;
let readTimer: NodeJS.Timeout | undefined;

/** The welcome action `done` recorded by any welcome rule for this relationship's add, if any. */
export function findWelcomeDone(
  corpId: string,
  subject: string,
  occurrenceId: string,
  maxTimeMS: number,
): Promise<{ ruleId: Types.ObjectId } | null> {
  return new Promise((resolve, reject) => {
    const list = reads.get(corpId) ?? [];
    list.push({ subject, occurrenceId, maxTimeMS, resolve, reject });
    reads.set(corpId, list);
    readCount += 1;
    if (readCount >= LEDGER_BATCH.maxBatch) flushReads();
    else readTimer ??= setTimeout(flushReads, LEDGER_BATCH.readWindowMs);
  });
}

function flushReads(): void {
  clearTimeout(readTimer);
  readTimer = undefined;
  readCount = 0;
  const batch = [...reads];
  reads.clear();
  for (const [corpId, list] of batch) {
    const subjects = [...new Set(list.map((r) => r.subject))];
    ExecutionModel.collection
      .find<{ ruleId: Types.ObjectId; subject: string; occurrenceId: string }>(
        {
          corpId,
          subject: subjects.length === 1 ? subjects[0] : { $in: subjects },
          trigger: 'customer.added',
          actions: { $elemMatch: { type: 'welcome', status: 'done' } },
        },
        {
          projection: { _id: 0, ruleId: 1, subject: 1, occurrenceId: 1 },
          maxTimeMS: Math.min(...list.map((r) => r.maxTimeMS)),
        },
      )
      .toArray()
      .then(
        (docs) => {
          for (const r of list) {
            const doc = docs.find((d) => d.subject === r.subject && d.occurrenceId === r.occurrenceId);
            r.resolve(doc ? { ruleId: doc.ruleId } : null);
          }
        },
        (err: unknown) => {
          for (const r of list) r.reject(err);
        },
      );
  }
}

/**
 * The welcome's execution record, written in one upsert after `send_welcome_msg` answered: the
 * first welcome action with its outcome; further welcome actions of the rule are skipped (one
 * welcome per add). The same document as `recordWelcome` (src/domain/rules/engine/execution.service.ts)
 * writes through mongoose, timestamps included.
 */
export function recordWelcomeOutcome(input: {
  key: ExecutionKey;
  corpId: string;
  ruleVersion: number;
  actionCount: number;
  status: 'done' | 'skipped';
  at: Date;
  reason?: string;
  refs?: Record<string, unknown>;
}): Promise<void> {
  const actions = Array.from({ length: input.actionCount }, (_, index) =>
    index === 0
      ? {
          index,
          type: 'welcome',
          status: input.status,
          attempts: 1,
          ...(input.reason ? { reason: input.reason } : {}),
          ...(input.refs ? { refs: input.refs } : {}),
          at: input.at,
        }
      : { index, type: 'welcome', status: 'skipped', attempts: 0, reason: 'one welcome per add' },
  );
  const now = new Date();
  const op = {
    updateOne: {
      filter: {
        ruleId: new Types.ObjectId(input.key.ruleId),
        subject: input.key.subject,
        occurrenceId: input.key.occurrenceId,
      },
      update: {
        $set: { status: input.status, actions, ...(input.reason ? { reason: input.reason } : {}), updatedAt: now },
        $setOnInsert: {
          corpId: input.corpId,
          ruleVersion: input.ruleVersion,
          trigger: 'customer.added',
          createdAt: now,
        },
      },
      upsert: true,
    },
  } as const;
  return new Promise((resolve, reject) => {
    writes.push({ op, resolve, reject });
    if (writes.length >= LEDGER_BATCH.maxBatch) flushWrites();
    else writeTimer ??= setTimeout(flushWrites, LEDGER_BATCH.writeWindowMs);
  });
}

type RecordOp = AnyBulkWriteOperation<Document>;
const writes: Array<Pending<void> & { op: RecordOp }> = [];
let writeTimer: NodeJS.Timeout | undefined;

function flushWrites(): void {
  clearTimeout(writeTimer);
  writeTimer = undefined;
  const batch = writes.splice(0);
  ExecutionModel.collection
    .bulkWrite(
      batch.map((w) => w.op),
      { ordered: false },
    )
    .then(
      () => {
        for (const w of batch) w.resolve();
      },
      (err: unknown) => {
        // An unordered bulk write reports which operations failed; the others were written.
        const failed = new Set<number>();
        // The driver's class through mongoose (the driver mongoose runs; `mongodb` itself is a dev dependency).
        if (err instanceof mongo.MongoBulkWriteError) {
          const list = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
          for (const e of list) failed.add(e.index);
        }
        for (const [i, w] of batch.entries()) {
          if (failed.size === 0 || failed.has(i)) w.reject(err);
          else w.resolve();
        }
      },
    );
}
