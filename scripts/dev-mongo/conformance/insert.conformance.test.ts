import mongoose from 'mongoose';
import { MongoBulkWriteError, MongoServerError, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useMongooseTarget, type Target } from './conformance.test-support.js';

let t: Target;
let conn: mongoose.Connection;
useMongooseTarget('insert', (target, connection) => {
  t = target;
  conn = connection;
});

const errOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('D. insert and unique semantics', () => {
  it('a server-generated _id is placed first', async () => {
    const c = t.db.collection('d23');
    await t.db.command({ insert: 'd23', documents: [{ a: 1, b: 2 }] });
    const doc = await c.findOne({});
    expect(Object.keys(doc ?? {})).toEqual(['_id', 'a', 'b']);
    expect(doc?._id).toBeInstanceOf(ObjectId);
  });

  it('duplicate _id → 11000 on _id_', async () => {
    const c = t.db.collection('d24');
    await c.insertOne({ _id: 7 as never });
    const err = await errOf(c.insertOne({ _id: 7 as never }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 7 } });
    expect((err as Error).message).toBe(
      `E11000 duplicate key error collection: ${t.dbName}.d24 index: _id_ dup key: { _id: 7 }`,
    );
  });

  it('unique violation reply shape: writeErrors[{index, code, keyPattern, keyValue, errmsg}]', async () => {
    const c = t.db.collection('d25');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ email: 'alice@x.io' });
    const reply = await t.db.command({ insert: 'd25', documents: [{ email: 'bob@x.io' }, { email: 'alice@x.io' }] });
    expect(reply.n).toBe(1);
    expect(reply.writeErrors).toEqual([
      {
        index: 1,
        code: 11000,
        keyPattern: { email: 1 },
        keyValue: { email: 'alice@x.io' },
        errmsg: `E11000 duplicate key error collection: ${t.dbName}.d25 index: email_1 dup key: { email: "alice@x.io" }`,
      },
    ]);
  });

  it('ordered insertMany stops at the first error; unordered reports every failing index', async () => {
    const c = t.db.collection('d26');
    await c.createIndex({ k: 1 }, { unique: true });
    await c.insertOne({ k: 1 });
    const ordered = await errOf(c.insertMany([{ k: 2 }, { k: 1 }, { k: 3 }]));
    expect(ordered).toBeInstanceOf(MongoBulkWriteError);
    expect((ordered as MongoBulkWriteError).result.insertedCount).toBe(1);
    expect(await c.countDocuments({ k: 3 })).toBe(0);
    const unordered = await errOf(c.insertMany([{ k: 1 }, { k: 4 }, { k: 2 }, { k: 5 }], { ordered: false }));
    expect((unordered as MongoBulkWriteError).writeErrors).toHaveLength(2);
    expect(
      ([] as { index: number }[]).concat((unordered as MongoBulkWriteError).writeErrors).map((e) => e.index),
    ).toEqual([0, 2]);
    expect((await c.find({}, { sort: { k: 1 } }).toArray()).map((d) => d.k)).toEqual([1, 2, 4, 5]);
  });

  it('missing field collides as null; sparse skips; partial filters', async () => {
    const plain = t.db.collection('d27a');
    await plain.createIndex({ email: 1 }, { unique: true });
    await plain.insertOne({ name: 'no email' });
    const err = await errOf(plain.insertOne({ name: 'also none' }));
    expect(err).toMatchObject({ code: 11000, keyValue: { email: null } });
    expect((err as Error).message).toContain('dup key: { email: null }');
    const sparse = t.db.collection('d27b');
    await sparse.createIndex({ email: 1 }, { unique: true, sparse: true });
    await sparse.insertMany([{ n: 1 }, { n: 2 }]);
    expect(await sparse.countDocuments()).toBe(2);
    const partial = t.db.collection('d27c');
    await partial.createIndex(
      { handle: 1 },
      { unique: true, partialFilterExpression: { handle: { $type: 'string' } } },
    );
    await partial.insertMany([{ handle: null }, { handle: null }, { handle: 'a' }]);
    expect(await errOf(partial.insertOne({ handle: 'a' }))).toMatchObject({ code: 11000 });
  });

  it('compound, multikey (across documents only) and nested paths', async () => {
    const compound = t.db.collection('d27d');
    await compound.createIndex({ corpId: 1, externalId: 1 }, { unique: true });
    await compound.insertMany([
      { corpId: 'c1', externalId: 'e1' },
      { corpId: 'c2', externalId: 'e1' },
    ]);
    const err = await errOf(compound.insertOne({ corpId: 'c1', externalId: 'e1' }));
    expect(err).toMatchObject({
      code: 11000,
      keyPattern: { corpId: 1, externalId: 1 },
      keyValue: { corpId: 'c1', externalId: 'e1' },
    });
    expect((err as Error).message).toContain('dup key: { corpId: "c1", externalId: "e1" }');
    const multi = t.db.collection('d27e');
    await multi.createIndex({ tags: 1 }, { unique: true });
    await multi.insertOne({ tags: ['a', 'a', 'b'] });
    expect(await errOf(multi.insertOne({ tags: ['c', 'b'] }))).toMatchObject({ code: 11000, keyValue: { tags: 'b' } });
    const nested = t.db.collection('d27f');
    await nested.createIndex({ 'profile.phoneHash': 1 }, { unique: true });
    await nested.insertOne({ profile: { phoneHash: 'h1' } });
    expect(await errOf(nested.insertOne({ profile: { phoneHash: 'h1' } }))).toMatchObject({
      code: 11000,
      keyValue: { 'profile.phoneHash': 'h1' },
    });
  });

  it('[docs] $-prefixed field names are allowed on insert (5.0+); an array _id is rejected', async () => {
    const c = t.db.collection('d28');
    await c.insertOne({ a: { $price: 1 } });
    expect(await c.countDocuments()).toBe(1);
    expect(await errOf(c.insertOne({ _id: [1, 2] as never }))).toBeInstanceOf(MongoServerError);
  });

  it('documents over 16 MiB are rejected', async () => {
    const big = 'x'.repeat(17 * 1024 * 1024);
    expect(await errOf(t.db.collection('d29').insertOne({ big }))).toBeInstanceOf(Error);
    expect(await t.db.collection('d29').countDocuments()).toBe(0);
  });

  it('mongoose error paths: create, insertMany ordered/unordered, updateOne, findOneAndUpdate, bulkWrite', async () => {
    const User = conn.model('D30', new mongoose.Schema({ email: { type: String, unique: true }, n: Number }), 'd30');
    await User.init();
    await User.create({ email: 'a@x.io' }, { email: 'b@x.io' });
    const create = await errOf(User.create({ email: 'a@x.io' }));
    expect(create).toBeInstanceOf(MongoServerError);
    expect(create).toMatchObject({ code: 11000, keyPattern: { email: 1 }, keyValue: { email: 'a@x.io' } });
    const ordered = await errOf(User.insertMany([{ email: 'c@x.io' }, { email: 'a@x.io' }, { email: 'd@x.io' }]));
    expect(ordered).toBeInstanceOf(MongoBulkWriteError);
    expect(ordered).toMatchObject({ code: 11000 });
    const unordered = await errOf(
      User.insertMany([{ email: 'a@x.io' }, { email: 'e@x.io' }, { email: 'b@x.io' }], { ordered: false }),
    );
    expect(unordered).toBeInstanceOf(MongoBulkWriteError);
    expect(await User.countDocuments({ email: 'e@x.io' })).toBe(1);
    const update = await errOf(User.updateOne({ email: 'c@x.io' }, { $set: { email: 'a@x.io' } }));
    expect(update).toBeInstanceOf(MongoServerError);
    expect(update).toMatchObject({ code: 11000, keyValue: { email: 'a@x.io' } });
    const fau = await errOf(User.findOneAndUpdate({ email: 'c@x.io' }, { $set: { email: 'b@x.io' } }));
    expect(fau).toBeInstanceOf(MongoServerError);
    expect(fau).toMatchObject({
      code: 11000,
      codeName: 'DuplicateKey',
      keyPattern: { email: 1 },
      keyValue: { email: 'b@x.io' },
    });
    const bulk = await errOf(
      User.bulkWrite([
        { insertOne: { document: { email: 'f@x.io' } } },
        { updateOne: { filter: { email: 'f@x.io' }, update: { $set: { n: 1 } } } },
        { insertOne: { document: { email: 'a@x.io' } } },
      ]),
    );
    expect(bulk).toBeInstanceOf(MongoBulkWriteError);
    expect((bulk as MongoBulkWriteError).writeErrors).toMatchObject([{ index: 2, code: 11000 }]);
  });
});
