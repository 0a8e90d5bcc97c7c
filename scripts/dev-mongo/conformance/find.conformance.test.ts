import mongoose from 'mongoose';
import { Long, ObjectId, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, withDb, type Target } from './conformance.test-support.js';

let t: Target;
beforeAll(async () => {
  t = await openTarget('find');
  await t.db.collection('people').insertMany([
    {
      _id: 1,
      name: 'ann',
      age: 31,
      tags: ['a', 'b'],
      addr: { city: 'sh' },
      items: [
        { sku: 's1', qty: 2 },
        { sku: 's2', qty: 5 },
      ],
    },
    { _id: 2, name: 'bob', age: 25, tags: ['b'], addr: { city: 'bj' }, items: [{ sku: 's2', qty: 1 }], nick: null },
    { _id: 3, name: 'cid', age: 40, tags: [], addr: { city: 'sh' }, oid: new ObjectId('65a000000000000000000000') },
    { _id: 4, name: 'Dee', age: 25.5, when: new Date('2024-01-01T00:00:00Z') },
  ] as Document[]);
});
afterAll(async () => {
  await t.close();
});

const ids = async (filter: Document, opts: Document = {}): Promise<unknown[]> =>
  (
    await t.db
      .collection('people')
      .find(filter, { ...opts, projection: { _id: 1 } })
      .toArray()
  ).map((d) => d._id);

describe('E. find, cursors and reads', () => {
  it('comparison, logical, $exists, $in/$nin', async () => {
    expect(await ids({ age: { $gt: 25, $lte: 40 } }, { sort: { _id: 1 } })).toEqual([1, 3, 4]);
    expect(await ids({ $or: [{ name: 'bob' }, { age: 40 }] }, { sort: { _id: 1 } })).toEqual([2, 3]);
    expect(await ids({ $nor: [{ age: 25 }, { age: 25.5 }] }, { sort: { _id: 1 } })).toEqual([1, 3]);
    expect(await ids({ age: { $not: { $gt: 30 } } }, { sort: { _id: 1 } })).toEqual([2, 4]);
    expect(await ids({ nick: { $exists: true } })).toEqual([2]);
    expect(await ids({ name: { $in: ['ann', 'cid'] } }, { sort: { _id: 1 } })).toEqual([1, 3]);
    expect(await ids({ name: { $nin: ['ann', 'cid'] } }, { sort: { _id: 1 } })).toEqual([2, 4]);
  });

  it('null vs missing; $type with BSON aliases and numbers', async () => {
    expect(await ids({ nick: null }, { sort: { _id: 1 } })).toEqual([1, 2, 3, 4]);
    expect(await ids({ nick: { $type: 'null' } })).toEqual([2]);
    expect(await ids({ oid: { $type: 'objectId' } })).toEqual([3]);
    expect(await ids({ oid: { $type: 7 } })).toEqual([3]);
    expect(await ids({ age: { $type: 'double' } })).toEqual([4]);
    expect(await ids({ when: { $type: 'date' } })).toEqual([4]);
    expect(await ids({ age: { $type: 'number' } }, { sort: { _id: 1 } })).toEqual([1, 2, 3, 4]);
  });

  it('$regex with options, $expr, $mod, $all, $elemMatch, $size, dotted paths into arrays', async () => {
    expect(await ids({ name: { $regex: '^d', $options: 'i' } })).toEqual([4]);
    expect(await ids({ name: /^B/i })).toEqual([2]);
    expect(await ids({ $expr: { $gt: ['$age', 35] } })).toEqual([3]);
    expect(await ids({ age: { $mod: [5, 0] } }, { sort: { _id: 1 } })).toEqual([2, 3]);
    expect(await ids({ tags: { $all: ['a', 'b'] } })).toEqual([1]);
    expect(await ids({ items: { $elemMatch: { sku: 's2', qty: { $gt: 3 } } } })).toEqual([1]);
    expect(await ids({ tags: { $size: 0 } })).toEqual([3]);
    expect(await ids({ 'items.sku': 's2' }, { sort: { _id: 1 } })).toEqual([1, 2]);
    expect(await ids({ 'addr.city': 'sh' }, { sort: { _id: 1 } })).toEqual([1, 3]);
  });

  it('sort: multiple keys, BSON cross-type order, arrays by min/max element, missing first', async () => {
    expect(await ids({}, { sort: { age: 1, _id: -1 } })).toEqual([2, 4, 1, 3]);
    const c = t.db.collection('e32');
    await c.insertMany([
      { _id: 1, v: true },
      { _id: 2, v: 'str' },
      { _id: 3, v: 5 },
      { _id: 4, v: new ObjectId('65a000000000000000000000') },
      { _id: 5, v: new Date(0) },
      { _id: 6, v: null },
      { _id: 7 },
      { _id: 8, v: { x: 1 } },
    ] as Document[]);
    const order = (await c.find({}, { sort: { v: 1, _id: 1 } }).toArray()).map((d) => d._id);
    expect(order).toEqual([6, 7, 3, 2, 8, 4, 1, 5]);
    const arr = t.db.collection('e32b');
    await arr.insertMany([
      { _id: 1, a: [[3], 2, [5, 1]] },
      { _id: 2, a: [4] },
      { _id: 3, a: 3 },
    ] as Document[]);
    expect((await arr.find({}, { sort: { a: 1 } }).toArray()).map((d) => d._id)).toEqual([1, 3, 2]);
    expect((await arr.find({}, { sort: { a: -1 } }).toArray()).map((d) => d._id)).toEqual([1, 2, 3]);
  });

  it('projection: inclusion, exclusion, _id:0, dotted, $slice, $elemMatch, positional $, _id first', async () => {
    const c = t.db.collection('people');
    const inc = await c.findOne({ _id: 1 as never }, { projection: { name: 1, 'addr.city': 1 } });
    expect(inc).toEqual({ _id: 1, name: 'ann', addr: { city: 'sh' } });
    expect(Object.keys(inc ?? {})[0]).toBe('_id');
    expect(await c.findOne({ _id: 2 as never }, { projection: { _id: 0, name: 1 } })).toEqual({ name: 'bob' });
    const exc = await c.findOne({ _id: 2 as never }, { projection: { items: 0, tags: 0, addr: 0 } });
    expect(exc).toEqual({ _id: 2, name: 'bob', age: 25, nick: null });
    expect(await c.findOne({ _id: 1 as never }, { projection: { _id: 0, tags: { $slice: 1 }, name: 1 } })).toEqual({
      name: 'ann',
      tags: ['a'],
    });
    expect(
      await c.findOne({ _id: 1 as never }, { projection: { _id: 0, items: { $elemMatch: { sku: 's2' } } } }),
    ).toEqual({ items: [{ sku: 's2', qty: 5 }] });
    expect(await c.findOne({ 'items.sku': 's2', _id: 1 as never }, { projection: { _id: 0, 'items.$': 1 } })).toEqual({
      items: [{ sku: 's2', qty: 5 }],
    });
    // Stored documents are unchanged by projections.
    expect((await c.findOne({ _id: 1 as never }))?.items).toHaveLength(2);
  });

  it('skip, limit, negative limit, singleBatch, batchSize, default 101, Int64 id, ns', async () => {
    const c = t.db.collection('e34');
    await c.insertMany(Array.from({ length: 250 }, (_, i) => ({ _id: i })) as Document[]);
    const first = await t.db.command({ find: 'e34', filter: {} }, { promoteLongs: false });
    expect(first.cursor.firstBatch).toHaveLength(101);
    expect(first.cursor.ns).toBe(`${t.dbName}.e34`);
    expect(first.cursor.id).toBeInstanceOf(Long);
    expect(Number(first.cursor.id)).not.toBe(0);
    await t.db.command({ killCursors: 'e34', cursors: [first.cursor.id] });
    const limited = await t.db.command({ find: 'e34', filter: {}, sort: { _id: 1 }, skip: 10, limit: 5 });
    expect(limited.cursor.firstBatch.map((d: Document) => d._id)).toEqual([10, 11, 12, 13, 14]);
    expect(Number(limited.cursor.id)).toBe(0);
    const neg = await t.db.command({ find: 'e34', filter: {}, sort: { _id: 1 }, limit: -3 });
    expect(neg.cursor.firstBatch).toHaveLength(3);
    expect(Number(neg.cursor.id)).toBe(0);
    const single = await t.db.command({ find: 'e34', filter: {}, batchSize: 10, singleBatch: true });
    expect(single.cursor.firstBatch).toHaveLength(10);
    expect(Number(single.cursor.id)).toBe(0);
    const zero = await t.db.command({ find: 'e34', filter: {}, batchSize: 0 }, { promoteLongs: false });
    expect(zero.cursor.firstBatch).toHaveLength(0);
    expect(Number(zero.cursor.id)).not.toBe(0);
    const more = await t.db.command({ getMore: zero.cursor.id, collection: 'e34', batchSize: 7 });
    expect(more.cursor.nextBatch).toHaveLength(7);
    expect((await c.find({}).batchSize(20).toArray()).length).toBe(250);
  });

  it('getMore batchSize; unknown or killed cursor → 43; killCursors lists', async () => {
    const r = await t.db.command({ find: 'e34', filter: {}, batchSize: 2 }, { promoteLongs: false });
    const more = await t.db.command({ getMore: r.cursor.id, collection: 'e34', batchSize: 3 });
    expect(more.cursor.nextBatch).toHaveLength(3);
    expect(more.cursor.ns).toBe(`${t.dbName}.e34`);
    const killed = await t.db.command({ killCursors: 'e34', cursors: [r.cursor.id, Long.fromNumber(123456789)] });
    expect(killed.cursorsKilled.map(Number)).toEqual([Number(r.cursor.id)]);
    expect(killed.cursorsAlive).toEqual([]);
    expect(killed.cursorsNotFound.map(Number)).toEqual([123456789]);
    await expect(t.db.command({ getMore: r.cursor.id, collection: 'e34' })).rejects.toMatchObject({
      code: 43,
      codeName: 'CursorNotFound',
    });
  });

  it('find on a missing collection → empty batch and id 0', async () => {
    const r = await t.db.command({ find: 'e36_missing', filter: { a: 1 } });
    expect(r.cursor.firstBatch).toEqual([]);
    expect(Number(r.cursor.id)).toBe(0);
  });

  it('mongoose .cursor() over several batches; early break kills the cursor', async () => {
    const conn = await mongoose.createConnection(withDb(t.uri, t.dbName)).asPromise();
    try {
      const M = conn.model('E37', new mongoose.Schema({ _id: Number }), 'e34');
      let seen = 0;
      for await (const _doc of M.find().sort({ _id: 1 }).batchSize(30).cursor()) seen++;
      expect(seen).toBe(250);
      let partial = 0;
      for await (const _doc of M.find().batchSize(10).cursor()) if (++partial === 15) break;
      expect(partial).toBe(15);
    } finally {
      await conn.close();
    }
  });

  it('count with query/skip/limit, missing collection, estimatedDocumentCount, countDocuments with 0 matches', async () => {
    expect((await t.db.command({ count: 'people', query: { age: { $gte: 25 } }, skip: 1, limit: 2 })).n).toBe(2);
    expect((await t.db.command({ count: 'nope_missing' })).n).toBe(0);
    expect(await t.db.collection('people').estimatedDocumentCount()).toBe(4);
    expect(await t.db.collection('people').countDocuments({ name: 'zzz' })).toBe(0);
  });

  it('distinct unwinds arrays, dedupes 1/1.0/Long(1), skips missing, applies a filter', async () => {
    const c = t.db.collection('e39');
    await c.insertMany([
      { v: 1 },
      { v: 1.0 },
      { v: Long.fromNumber(1) },
      { v: [2, 3] },
      { w: 1 },
      { v: 'x', f: true },
    ] as Document[]);
    const values = await c.distinct('v');
    expect(values).toHaveLength(4);
    expect(values).toEqual(expect.arrayContaining([1, 2, 3, 'x']));
    expect(await c.distinct('v', { f: true })).toEqual(['x']);
    expect(await t.db.collection('people').distinct('tags')).toEqual(['a', 'b']);
  });
});
