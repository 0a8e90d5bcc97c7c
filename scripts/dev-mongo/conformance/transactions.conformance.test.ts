import mongoose from 'mongoose';
import { Long, MongoServerError, UUID } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, withDb, type Target } from './conformance.test-support.js';

// Against a real server these need a replica set (a one-node set is enough): a standalone mongod answers code 20.
let t: Target;
beforeAll(async () => {
  t = await openTarget('txn');
  await t.db.createCollection('acct');
});
afterAll(async () => {
  await t.close();
});

describe('I. transactions', () => {
  it('commit makes writes visible', async () => {
    const c = t.db.collection('acct');
    const session = t.client.startSession();
    await session.withTransaction(async () => {
      await c.insertOne({ k: 'committed' }, { session });
      await c.updateOne({ k: 'committed' }, { $set: { v: 1 } }, { session });
    });
    await session.endSession();
    expect(await c.findOne({ k: 'committed' }, { projection: { _id: 0 } })).toEqual({ k: 'committed', v: 1 });
  });

  it('abort rolls back inserts, updates, deletes and collections created inside', async () => {
    const c = t.db.collection('acct');
    await c.insertMany([{ k: 'upd', v: 1 }, { k: 'del' }]);
    const session = t.client.startSession();
    session.startTransaction();
    await c.insertOne({ k: 'ghost' }, { session });
    await c.updateOne({ k: 'upd' }, { $set: { v: 2 } }, { session });
    await c.deleteOne({ k: 'del' }, { session });
    await t.db.collection('born_in_txn').insertOne({ a: 1 }, { session });
    await session.abortTransaction();
    await session.endSession();
    expect(await c.countDocuments({ k: 'ghost' })).toBe(0);
    expect((await c.findOne({ k: 'upd' }))?.v).toBe(1);
    expect(await c.countDocuments({ k: 'del' })).toBe(1);
    expect((await t.db.listCollections({ name: 'born_in_txn' }).toArray()).length).toBe(0);
  });

  it('[docs] a document inserted in an open transaction is invisible to other sessions until the commit (regression: a relay queued an event whose transaction was then rolled back)', async () => {
    const c = t.db.collection('acct');
    const session = t.client.startSession();
    session.startTransaction();
    await c.insertOne({ k: 'uncommitted', status: 'pending' }, { session });
    // The session itself sees it; nobody else does, by find, count, distinct, aggregate or update.
    expect(await c.countDocuments({ k: 'uncommitted' }, { session })).toBe(1);
    expect(await c.findOne({ k: 'uncommitted' })).toBeNull();
    expect(await c.countDocuments({ k: 'uncommitted' })).toBe(0);
    expect(await c.distinct('k', { status: 'pending' })).not.toContain('uncommitted');
    expect(await c.aggregate([{ $match: { k: 'uncommitted' } }]).toArray()).toEqual([]);
    expect((await c.updateMany({ k: 'uncommitted' }, { $set: { status: 'relayed' } })).matchedCount).toBe(0);
    await session.commitTransaction();
    await session.endSession();
    expect(await c.findOne({ k: 'uncommitted' }, { projection: { _id: 0 } })).toEqual({
      k: 'uncommitted',
      status: 'pending',
    });
    // Aborted: never seen by anyone.
    const other = t.client.startSession();
    other.startTransaction();
    await c.insertOne({ k: 'rolled-back' }, { session: other });
    expect(await c.countDocuments({ k: 'rolled-back' })).toBe(0);
    await other.abortTransaction();
    await other.endSession();
    expect(await c.countDocuments({ k: 'rolled-back' })).toBe(0);
  });

  it('[docs] commit/abort of an unknown transaction → 251 NoSuchTransaction with TransientTransactionError', async () => {
    const lsid = { id: new UUID() };
    const err = await t.client
      .db('admin')
      .command({ abortTransaction: 1, lsid, txnNumber: Long.fromNumber(99), autocommit: false })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 251, codeName: 'NoSuchTransaction' });
    expect((err as MongoServerError).hasErrorLabel('TransientTransactionError')).toBe(true);
  });

  it('mongoose connection.transaction() commits, and a thrown error aborts', async () => {
    const conn = await mongoose.createConnection(withDb(t.uri, t.dbName)).asPromise();
    try {
      const M = conn.model('I62', new mongoose.Schema({ k: String }), 'acct');
      await conn.transaction(async (session) => {
        await M.create([{ k: 'via-mongoose' }], { session });
      });
      expect(await M.countDocuments({ k: 'via-mongoose' })).toBe(1);
      await expect(
        conn.transaction(async (session) => {
          await M.create([{ k: 'rolled-back' }], { session });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await M.countDocuments({ k: 'rolled-back' })).toBe(0);
    } finally {
      await conn.close();
    }
  });

  it('[docs] a transaction writing a document another open transaction inserted gets 112 WriteConflict (TransientTransactionError) and is aborted; withTransaction then succeeds (regression: two deliveries of one outcome raced on an outbox id)', async () => {
    const c = t.db.collection('acct');
    const first = t.client.startSession();
    first.startTransaction();
    await c.updateOne({ _id: 'race-1' as never }, { $setOnInsert: { by: 'first' } }, { upsert: true, session: first });
    const second = t.client.startSession();
    second.startTransaction();
    const err = await c
      .updateOne({ _id: 'race-1' as never }, { $setOnInsert: { by: 'second' } }, { upsert: true, session: second })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 112, codeName: 'WriteConflict' });
    expect((err as MongoServerError).hasErrorLabel('TransientTransactionError')).toBe(true);
    await second.abortTransaction().catch(() => undefined);
    // The driver's retry loop: a second attempt after the first commits updates the committed document.
    let attempts = 0;
    const retried = second.withTransaction(async () => {
      attempts++;
      await c.updateOne({ _id: 'race-1' as never }, { $set: { seen: attempts } }, { upsert: true, session: second });
    });
    await new Promise((r) => setTimeout(r, 50));
    await first.commitTransaction();
    await retried;
    await Promise.all([first.endSession(), second.endSession()]);
    expect(await c.findOne({ _id: 'race-1' as never })).toMatchObject({ by: 'first' });
    expect(attempts).toBeGreaterThanOrEqual(1);
  });

  it('[docs] a write outside a transaction that meets a document an open transaction inserted waits for it: an upsert then updates it, an insert of the same key then fails, or succeeds after an abort', async () => {
    const c = t.db.collection('waits');
    await c.createIndex({ uk: 1 }, { unique: true });
    const txn = t.client.startSession();
    txn.startTransaction();
    await c.insertOne({ _id: 'wait-1' as never, uk: 'u1', from: 'txn' }, { session: txn });
    let upsertDone = false;
    const upsert = c.updateOne({ _id: 'wait-1' as never }, { $set: { plain: true } }, { upsert: true }).then((r) => {
      upsertDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(upsertDone).toBe(false); // blocked by the open transaction
    await txn.commitTransaction();
    const result = await upsert;
    expect(result).toMatchObject({ matchedCount: 1, upsertedCount: 0 });
    expect(await c.findOne({ _id: 'wait-1' as never }, { projection: { _id: 0 } })).toEqual({
      uk: 'u1',
      from: 'txn',
      plain: true,
    });
    // An insert on a unique key held by an open transaction: E11000 after its commit ...
    txn.startTransaction();
    await c.insertOne({ uk: 'u2' }, { session: txn });
    const dup = c.insertOne({ uk: 'u2' }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await txn.commitTransaction();
    expect(await dup).toMatchObject({ code: 11000 });
    // ... and success after its abort.
    txn.startTransaction();
    await c.insertOne({ uk: 'u3', from: 'txn' }, { session: txn });
    const after = c.insertOne({ uk: 'u3', from: 'plain' });
    await new Promise((r) => setTimeout(r, 50));
    await txn.abortTransaction();
    await after;
    await txn.endSession();
    expect(await c.find({ uk: 'u3' }, { projection: { _id: 0 } }).toArray()).toEqual([{ uk: 'u3', from: 'plain' }]);
  });
});
