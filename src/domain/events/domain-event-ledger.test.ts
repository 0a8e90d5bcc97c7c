/**
 * The domain-event ledger claimed and finished per batch (domain-event-ledger.ts) against the dev
 * MongoDB server: one insert claims the events of a moment, a collision with a processed event is
 * a duplicate, a collision with a failed or interrupted one claims it again, and one update per
 * corp finishes them. At least once: a failed event is claimed again on its retry, the others
 * are not run twice.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../testing/mongo.js';
import type { DomainEvent } from './domain-event.js';
import { DomainEventLedger, failEvent } from './domain-event-ledger.js';
import { DomainEventRecordModel } from './domain-event-record.model.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
beforeAll(async () => {
  db = await useTestDatabase('ledger');
  await DomainEventRecordModel.syncIndexes();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await DomainEventRecordModel.deleteMany({});
});

const event = (n: number, corpId = 'wwLedgerCorp'): DomainEvent => ({
  type: 'lead.created',
  corpId,
  sourceId: `lead-${n}`,
  occurredAt: '2026-06-01T02:00:00.000Z',
  userid: 'adv01',
  data: { leadId: `lead${n}`, assigned: true },
});
const id = (n: number) => `lead-created-${n}`;

/** One attempt of a job: claim, run the consumer (which may throw), finish or record the failure. */
async function attempt(ledger: DomainEventLedger, n: number, runs: number[], failing: Set<number>): Promise<string> {
  const e = event(n);
  if (!(await ledger.claim(id(n), e))) return 'duplicate';
  try {
    runs.push(n);
    if (failing.has(n)) throw new Error(`consumer failed on ${n}`);
  } catch (err) {
    await failEvent(id(n), e.corpId, err);
    return 'failed';
  }
  await ledger.finish(id(n), e.corpId);
  return 'processed';
}

describe('the domain-event ledger, per batch', () => {
  it('claims a burst in one insert and finishes it in one update; a processed half is a duplicate', async () => {
    const first = new DomainEventLedger();
    const runs: number[] = [];
    // Half of the burst was processed before (a redelivery after a crash, a replayed relay).
    const half = await Promise.all([0, 2, 4, 6, 8].map((n) => attempt(first, n, runs, new Set())));
    expect(half).toEqual(Array(5).fill('processed'));

    const ledger = new DomainEventLedger();
    const out = await Promise.all(Array.from({ length: 10 }, (_, n) => attempt(ledger, n, runs, new Set())));
    expect(out).toEqual(Array.from({ length: 10 }, (_, n) => (n % 2 === 0 ? 'duplicate' : 'processed')));
    // Every consumer ran once per event.
    expect([...runs].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The jobs of one moment share their commands: one claim, one finish.
    expect(ledger.claims.stats).toEqual({ commands: 1, items: 10 });
    expect(ledger.finishes.stats).toEqual({ commands: 1, items: 5 });

    const records = await DomainEventRecordModel.find({ corpId: 'wwLedgerCorp' }).sort({ eventId: 1 }).lean();
    expect(records).toHaveLength(10);
    for (const r of records) {
      expect(r).toMatchObject({ status: 'processed', attempts: 1, type: 'lead.created', userid: 'adv01' });
      expect(r.processedAt).toBeInstanceOf(Date);
      expect(r.customerId).toBeUndefined();
    }
  });

  it('a failed event is claimed again on its retry; the rest of its burst is not run again', async () => {
    const ledger = new DomainEventLedger();
    const runs: number[] = [];
    const failing = new Set([3, 7]);
    const first = await Promise.all(Array.from({ length: 10 }, (_, n) => attempt(ledger, n, runs, failing)));
    expect(first.filter((o) => o === 'failed')).toHaveLength(2);
    expect(await DomainEventRecordModel.countDocuments({ corpId: 'wwLedgerCorp', status: 'failed' })).toBe(2);

    // The queue retries every job of the burst (as a redelivery would); the consumer works now.
    runs.length = 0;
    const retried = await Promise.all(Array.from({ length: 10 }, (_, n) => attempt(ledger, n, runs, new Set())));
    expect(retried).toEqual(Array.from({ length: 10 }, (_, n) => (failing.has(n) ? 'processed' : 'duplicate')));
    expect(runs.sort()).toEqual([3, 7]);
    const failed = await DomainEventRecordModel.find({ eventId: { $in: [id(3), id(7)] } }).lean();
    expect(failed.map((r) => [r.status, r.attempts, r.error])).toEqual([
      ['processed', 2, undefined],
      ['processed', 2, undefined],
    ]);
  });

  it('an interrupted claim (processing, never finished) is claimed again; events of two corps finish per corp', async () => {
    const ledger = new DomainEventLedger();
    expect(await ledger.claim(id(1), event(1))).toBe(true);
    // The worker died here: the job is redelivered.
    expect(await ledger.claim(id(1), event(1))).toBe(true);
    const other = event(2, 'wwLedgerOther');
    expect(await ledger.claim(id(2), other)).toBe(true);
    await Promise.all([ledger.finish(id(1), 'wwLedgerCorp'), ledger.finish(id(2), 'wwLedgerOther')]);
    const records = await DomainEventRecordModel.find({}).sort({ eventId: 1 }).lean();
    expect(records.map((r) => [r.corpId, r.status, r.attempts])).toEqual([
      ['wwLedgerCorp', 'processed', 2],
      ['wwLedgerOther', 'processed', 1],
    ]);
    expect(await ledger.claim(id(1), event(1))).toBe(false);
  });
});
