import { Types } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { useTestDatabase } from '../../testing/mongo.js';
import { ExecutionModel } from './engine/execution.model.js';
import { findWelcomeDone, LEDGER_BATCH, recordWelcomeOutcome } from './welcome-ledger.js';

const corpId = 'wwledgercorp01';
let db: Awaited<ReturnType<typeof useTestDatabase>>;
beforeAll(async () => {
  db = await useTestDatabase('welcome-ledger');
  await ExecutionModel.init();
});
afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  await db?.drop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const record = (ruleId: Types.ObjectId, n: number, status: 'done' | 'skipped' = 'done') =>
  recordWelcomeOutcome({
    key: { ruleId: String(ruleId), subject: `ext:wmLedger${n}`, occurrenceId: 'add:lina' },
    corpId,
    ruleVersion: 1,
    actionCount: 1,
    status,
    at: new Date(),
  });

describe('welcome ledger', () => {
  it('joins the reads and records asked for a few milliseconds apart into one command each, and answers every caller with its own result', async () => {
    const ruleId = new Types.ObjectId();
    const bulkWrite = vi.spyOn(ExecutionModel.collection, 'bulkWrite');
    // Three records asked one after another, as the jobs of a stream of adds finish: one bulkWrite.
    const writes: Array<Promise<void>> = [];
    for (const n of [1, 2, 3]) {
      writes.push(record(ruleId, n));
      await pause(2);
    }
    await Promise.all(writes);
    expect(bulkWrite).toHaveBeenCalledTimes(1);
    expect(await ExecutionModel.countDocuments({ corpId, ruleId })).toBe(3);

    const find = vi.spyOn(ExecutionModel.collection, 'find');
    const asked: Array<Promise<{ ruleId: Types.ObjectId } | null>> = [];
    for (const n of [1, 2, 4]) {
      asked.push(findWelcomeDone(corpId, `ext:wmLedger${n}`, 'add:lina', 5000));
      await pause(2);
    }
    const answers = await Promise.all(asked);
    expect(find).toHaveBeenCalledTimes(1);
    expect(answers.map((a) => (a ? String(a.ruleId) : null))).toEqual([String(ruleId), String(ruleId), null]);
  });

  it('sends a full batch at once instead of waiting for the window', async () => {
    const ruleId = new Types.ObjectId();
    const bulkWrite = vi.spyOn(ExecutionModel.collection, 'bulkWrite');
    const full = Array.from({ length: LEDGER_BATCH.maxBatch }, (_, i) => record(ruleId, 100 + i));
    // Sent as the last record was asked for, before any timer could run.
    expect(bulkWrite).toHaveBeenCalledTimes(1);
    expect(bulkWrite.mock.calls[0]?.[0]).toHaveLength(LEDGER_BATCH.maxBatch);
    await Promise.all(full);
    expect(await ExecutionModel.countDocuments({ corpId, ruleId })).toBe(LEDGER_BATCH.maxBatch);
  });
});
