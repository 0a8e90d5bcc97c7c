import { MongoServerError, ObjectId, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, type Target } from './conformance.test-support.js';

let t: Target;
beforeAll(async () => {
  t = await openTarget('update');
});
afterAll(async () => {
  await t.close();
});

/** Applies one update to a fresh document and returns the result without `_id`. */
async function after(doc: Document, update: Document | Document[], opts: Document = {}): Promise<Document | null> {
  const c = t.db.collection(`f_${new ObjectId().toHexString()}`);
  await c.insertOne({ _id: 1 as never, ...doc });
  await c.updateOne({ _id: 1 as never }, update, opts);
  return c.findOne({ _id: 1 as never }, { projection: { _id: 0 } });
}

const errOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('F. update and delete', () => {
  it('$set $unset $inc $mul $min $max $rename $currentDate', async () => {
    expect(
      await after({ a: 1, b: 2, c: 3 }, { $set: { 'x.y': 1 }, $unset: { b: '' }, $inc: { a: 2 }, $mul: { c: 2 } }),
    ).toEqual({ a: 3, c: 6, x: { y: 1 } });
    expect(await after({ lo: 5, hi: 5 }, { $min: { lo: 3 }, $max: { hi: 9 } })).toEqual({ lo: 3, hi: 9 });
    expect(await after({ a: 1 }, { $rename: { a: 'b' } })).toEqual({ b: 1 });
    const d = await after({}, { $currentDate: { at: true } });
    expect(d?.at).toBeInstanceOf(Date);
  });

  it('$push (each/slice/sort/position) $addToSet $pop $pull $pullAll $bit', async () => {
    expect(await after({ a: [3, 1] }, { $push: { a: { $each: [5, 0], $sort: 1, $slice: 3 } } })).toEqual({
      a: [0, 1, 3],
    });
    expect(await after({ a: [1, 2] }, { $push: { a: { $each: [9], $position: 0 } } })).toEqual({ a: [9, 1, 2] });
    expect(await after({ a: [1] }, { $addToSet: { a: { $each: [1, 2, 2] } } })).toEqual({ a: [1, 2] });
    expect(await after({ a: [1, 2, 3] }, { $pop: { a: -1 } })).toEqual({ a: [2, 3] });
    expect(await after({ a: [1, 2, 3, 4] }, { $pull: { a: { $gte: 3 } } })).toEqual({ a: [1, 2] });
    expect(await after({ a: [1, 2, 1] }, { $pullAll: { a: [1] } })).toEqual({ a: [2] });
    expect(await after({ f: 5 }, { $bit: { f: { and: 4 } } })).toEqual({ f: 4 });
  });

  it('positional $, $[], $[id] with arrayFilters; undefined identifier errors', async () => {
    const items = [
      { sku: 's1', qty: 1 },
      { sku: 's2', qty: 1 },
    ];
    const c = t.db.collection('f42');
    await c.insertOne({ _id: 1 as never, items });
    await c.updateOne({ _id: 1 as never, 'items.sku': 's2' }, { $inc: { 'items.$.qty': 5 } });
    await c.updateOne({ _id: 1 as never }, { $inc: { 'items.$[].qty': 1 } });
    await c.updateOne(
      { _id: 1 as never },
      { $set: { 'items.$[it].tag': 'x' } },
      { arrayFilters: [{ 'it.sku': 's1' }] },
    );
    expect((await c.findOne({ _id: 1 as never }))?.items).toEqual([
      { sku: 's1', qty: 2, tag: 'x' },
      { sku: 's2', qty: 7 },
    ]);
    expect(await errOf(c.updateOne({ _id: 1 as never }, { $set: { 'items.$[nope].qty': 0 } }))).toBeInstanceOf(
      MongoServerError,
    );
  });

  it('conflicting paths → 40; unknown operator → 9 with the MongoDB text; empty operator doc allowed', async () => {
    const c = t.db.collection('f43');
    await c.insertOne({ _id: 1 as never, a: { b: 1 } });
    expect(await errOf(c.updateOne({ _id: 1 as never }, { $set: { a: 1 }, $inc: { 'a.b': 1 } }))).toMatchObject({
      code: 40,
    });
    const unknown = await errOf(
      t.db
        .command({ update: 'f43', updates: [{ q: {}, u: { $foo: { a: 1 } } }] })
        .then((r) => Promise.reject(r.writeErrors?.[0] ?? r)),
    );
    expect(unknown).toMatchObject({
      code: 9,
      errmsg: 'Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array',
    });
    const r = await t.db.command({ update: 'f43', updates: [{ q: { _id: 1 }, u: { $set: {} } }] });
    expect(r).toMatchObject({ n: 1, nModified: 0, ok: 1 });
  });

  it('replacement keeps _id; changed _id → 66; multi replacement rejected', async () => {
    const c = t.db.collection('f44');
    await c.insertOne({ _id: 1 as never, a: 1, b: 2 });
    await c.replaceOne({ _id: 1 as never }, { z: 9 });
    expect(await c.findOne({ _id: 1 as never })).toEqual({ _id: 1, z: 9 });
    expect(await errOf(c.replaceOne({ _id: 1 as never }, { _id: 2, z: 1 }))).toMatchObject({ code: 66 });
    const multi = await t.db
      .command({ update: 'f44', updates: [{ q: {}, u: { z: 1 }, multi: true }] })
      .catch((e: unknown) => e);
    expect(JSON.stringify(multi)).toMatch(/multi/i);
  });

  it('modifying _id through operators → 66', async () => {
    const c = t.db.collection('f45');
    await c.insertOne({ _id: 1 as never });
    expect(await errOf(c.updateOne({ _id: 1 as never }, { $set: { _id: 2 } }))).toMatchObject({ code: 66 });
  });

  it('nModified counts only real changes', async () => {
    const c = t.db.collection('f46');
    await c.insertMany([
      { g: 1, v: 1 },
      { g: 1, v: 2 },
    ]);
    const r = await c.updateMany({ g: 1 }, { $set: { v: 1 } });
    expect(r).toMatchObject({ matchedCount: 2, modifiedCount: 1 });
  });

  it('upsert: equality seed ($and, $eq, dotted), _id from query, $setOnInsert only on insert, replacement upsert', async () => {
    const c = t.db.collection('f47');
    const r = await c.updateOne(
      { $and: [{ corpId: 'c1' }, { status: { $eq: 'new' } }], 'meta.src': 'api', n: { $gt: 1 } },
      { $set: { x: 1 }, $setOnInsert: { created: true } },
      { upsert: true },
    );
    expect(r.upsertedCount).toBe(1);
    expect(await c.findOne({ _id: r.upsertedId as never }, { projection: { _id: 0 } })).toEqual({
      corpId: 'c1',
      status: 'new',
      meta: { src: 'api' },
      x: 1,
      created: true,
    });
    await c.updateOne({ corpId: 'c1' }, { $set: { x: 2 }, $setOnInsert: { created: false } }, { upsert: true });
    expect((await c.findOne({ corpId: 'c1' }))?.created).toBe(true);
    const withId = await t.db.command({
      update: 'f47',
      updates: [{ q: { _id: 'k1' }, u: { $inc: { n: 1 } }, upsert: true }],
    });
    expect(withId).toMatchObject({ n: 1, nModified: 0, upserted: [{ index: 0, _id: 'k1' }] });
    await c.replaceOne({ _id: 'k2' as never }, { only: 'this' }, { upsert: true });
    expect(await c.findOne({ _id: 'k2' as never })).toEqual({ _id: 'k2', only: 'this' });
  });

  it('duplicate key during upsert → 11000', async () => {
    const c = t.db.collection('f47b');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ email: 'a', v: 1 });
    expect(await errOf(c.updateOne({ v: 2 }, { $set: { email: 'a' } }, { upsert: true }))).toMatchObject({
      code: 11000,
    });
  });

  it('multi, updateOne takes the first in natural order', async () => {
    const c = t.db.collection('f48');
    await c.insertMany([
      { _id: 1, g: 1 },
      { _id: 2, g: 1 },
      { _id: 3, g: 2 },
    ] as Document[]);
    await c.updateOne({ g: 1 }, { $set: { hit: true } });
    expect((await c.find({ hit: true }).toArray()).map((d) => d._id)).toEqual([1]);
    expect((await c.updateMany({}, { $set: { all: 1 } })).modifiedCount).toBe(3);
  });

  it('pipeline-style update', async () => {
    expect(await after({ a: 2, b: 3 }, [{ $set: { sum: { $add: ['$a', '$b'] } } }, { $unset: 'b' }])).toEqual({
      a: 2,
      sum: 5,
    });
  });

  it('a failed statement is not counted; ordered stops, unordered continues', async () => {
    await t.db.collection('f50').createIndex({ u: 1 }, { unique: true });
    await t.db.collection('f50').insertMany([
      { _id: 1, u: 1 },
      { _id: 2, u: 2 },
      { _id: 3, u: 3 },
    ] as Document[]);
    const updates = [
      { q: { _id: 1 }, u: { $set: { x: 1 } } },
      { q: { _id: 2 }, u: { $set: { u: 1 } } },
      { q: { _id: 3 }, u: { $set: { x: 1 } } },
    ];
    const ordered = await t.db.command({ update: 'f50', updates, ordered: true });
    expect(ordered).toMatchObject({ n: 1, nModified: 1 });
    expect(ordered.writeErrors.map((e: Document) => [e.index, e.code])).toEqual([[1, 11000]]);
    const incs: Document[] = updates.map((u) => ({ ...u, u: { $inc: { y: 1 } } }));
    const unordered = await t.db.command({ update: 'f50', updates: [...incs, updates[1] as Document], ordered: false });
    expect(unordered).toMatchObject({ n: 3, nModified: 3 });
    expect(unordered.writeErrors.map((e: Document) => e.index)).toEqual([3]);
  });

  it('delete with limit 1 and 0; missing collection → n 0', async () => {
    const c = t.db.collection('f51');
    await c.insertMany([{ g: 1 }, { g: 1 }, { g: 1 }, { g: 2 }]);
    expect((await c.deleteOne({ g: 1 })).deletedCount).toBe(1);
    expect((await c.deleteMany({ g: 1 })).deletedCount).toBe(2);
    expect((await t.db.collection('f51_missing').deleteMany({})).deletedCount).toBe(0);
  });
});
