import mongoose from 'mongoose';
import { MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, withDb, type Target } from './conformance.test-support.js';

let t: Target;
beforeAll(async () => {
  t = await openTarget('fam');
  await t.db.collection('g').insertMany([
    { _id: 1, k: 'a', n: 1 },
    { _id: 2, k: 'a', n: 5 },
    { _id: 3, k: 'b', n: 3 },
  ] as never[]);
});
afterAll(async () => {
  await t.close();
});

describe('G. findAndModify', () => {
  it('new true/false, fields, sort, lastErrorObject', async () => {
    const before = await t.db.command({
      findAndModify: 'g',
      query: { k: 'a' },
      sort: { n: -1 },
      update: { $inc: { n: 1 } },
      fields: { n: 1 },
    });
    expect(before).toMatchObject({ lastErrorObject: { n: 1, updatedExisting: true }, value: { _id: 2, n: 5 }, ok: 1 });
    const afterR = await t.db.command({ findAndModify: 'g', query: { _id: 2 }, update: { $inc: { n: 1 } }, new: true });
    expect(afterR.value).toEqual({ _id: 2, k: 'a', n: 7 });
    const none = await t.db.command({ findAndModify: 'g', query: { k: 'zz' }, update: { $set: { n: 0 } } });
    expect(none).toMatchObject({ lastErrorObject: { n: 0, updatedExisting: false }, value: null });
  });

  it('upsert (new true returns the doc, new false returns null) and remove', async () => {
    const up = await t.db.command({
      findAndModify: 'g',
      query: { _id: 10 },
      update: { $set: { k: 'u' } },
      upsert: true,
      new: true,
    });
    expect(up).toMatchObject({
      lastErrorObject: { n: 1, updatedExisting: false, upserted: 10 },
      value: { _id: 10, k: 'u' },
    });
    const upOld = await t.db.command({
      findAndModify: 'g',
      query: { _id: 11 },
      update: { $set: { k: 'u' } },
      upsert: true,
    });
    expect(upOld.value).toBeNull();
    expect(upOld.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false, upserted: 11 });
    const rm = await t.db.command({ findAndModify: 'g', query: { k: 'u' }, sort: { _id: -1 }, remove: true });
    expect(rm).toMatchObject({ lastErrorObject: { n: 1 }, value: { _id: 11, k: 'u' } });
  });

  it('duplicate key is a top-level 11000 DuplicateKey', async () => {
    await t.db.collection('g2').createIndex({ e: 1 }, { unique: true });
    await t.db.collection('g2').insertMany([{ e: 1 }, { e: 2 }]);
    const err = await t.db
      .command({ findAndModify: 'g2', query: { e: 2 }, update: { $set: { e: 1 } } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 11000, codeName: 'DuplicateKey', keyPattern: { e: 1 }, keyValue: { e: 1 } });
  });

  it('mongoose findOneAndUpdate/Delete/Replace and includeResultMetadata', async () => {
    const conn = await mongoose.createConnection(withDb(t.uri, t.dbName)).asPromise();
    try {
      const M = conn.model('G53', new mongoose.Schema({ k: String, n: Number }), 'g53');
      await M.create({ k: 'a', n: 1 });
      const updated = await M.findOneAndUpdate({ k: 'a' }, { $inc: { n: 1 } }, { returnDocument: 'after' }).lean();
      expect(updated?.n).toBe(2);
      const meta = await M.findOneAndUpdate(
        { k: 'new' },
        { $set: { n: 9 } },
        { upsert: true, returnDocument: 'after', includeResultMetadata: true },
      );
      expect(meta.lastErrorObject?.updatedExisting).toBe(false);
      expect(meta.value?.n).toBe(9);
      const replaced = await M.findOneAndReplace({ k: 'new' }, { k: 'rep', n: 0 }, { returnDocument: 'after' }).lean();
      expect(replaced).toMatchObject({ k: 'rep', n: 0 });
      const deleted = await M.findOneAndDelete({ k: 'rep' }).lean();
      expect(deleted?.k).toBe('rep');
      expect(await M.countDocuments()).toBe(1);
    } finally {
      await conn.close();
    }
  });
});
