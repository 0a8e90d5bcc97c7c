import { MongoServerError, ObjectId, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, type Target } from './conformance.test-support.js';

let t: Target;
beforeAll(async () => {
  t = await openTarget('agg');
  await t.db.collection('orders').insertMany([
    { _id: 1, cust: 'c1', amt: 10, items: ['x', 'y'], sub: { a: 1 } },
    { _id: 2, cust: 'c1', amt: 20, items: [] },
    { _id: 3, cust: 'c2', amt: 5, items: ['x'] },
  ] as Document[]);
  await t.db.collection('custs').insertMany([
    { _id: 'c1', name: 'Ann' },
    { _id: 'c2', name: 'Bob' },
  ] as Document[]);
});
afterAll(async () => {
  await t.close();
});

const agg = (pipeline: Document[], coll = 'orders'): Promise<Document[]> =>
  t.db.collection(coll).aggregate(pipeline).toArray();

describe('H. aggregate', () => {
  it('$match $group accumulators $sort $project $addFields', async () => {
    const g = await agg([
      { $match: { amt: { $gte: 5 } } },
      {
        $group: {
          _id: '$cust',
          total: { $sum: '$amt' },
          avg: { $avg: '$amt' },
          min: { $min: '$amt' },
          max: { $max: '$amt' },
          ids: { $push: '$_id' },
          set: { $addToSet: '$cust' },
          first: { $first: '$_id' },
          last: { $last: '$_id' },
          n: { $count: {} },
        },
      },
      { $sort: { _id: 1 } },
      { $addFields: { big: { $gt: ['$total', 10] } } },
      { $project: { set: 0 } },
    ]);
    expect(g).toEqual([
      { _id: 'c1', total: 30, avg: 15, min: 10, max: 20, ids: [1, 2], first: 1, last: 2, n: 2, big: true },
      { _id: 'c2', total: 5, avg: 5, min: 5, max: 5, ids: [3], first: 3, last: 3, n: 1, big: false },
    ]);
  });

  it('$unwind options, $lookup (both forms), $facet, $count, $sortByCount, $bucket, $replaceRoot, $skip/$limit', async () => {
    expect(
      await agg([
        { $unwind: { path: '$items', preserveNullAndEmptyArrays: true, includeArrayIndex: 'i' } },
        { $project: { _id: 1, items: 1, i: 1 } },
      ]),
    ).toEqual([
      { _id: 1, items: 'x', i: 0 },
      { _id: 1, items: 'y', i: 1 },
      { _id: 2, i: null },
      { _id: 3, items: 'x', i: 0 },
    ]);
    const l1 = await agg([
      { $match: { _id: 3 } },
      { $lookup: { from: 'custs', localField: 'cust', foreignField: '_id', as: 'c' } },
    ]);
    expect(l1[0]?.c).toEqual([{ _id: 'c2', name: 'Bob' }]);
    const l2 = await agg([
      { $match: { _id: 1 } },
      {
        $lookup: {
          from: 'custs',
          let: { cid: '$cust' },
          pipeline: [{ $match: { $expr: { $eq: ['$_id', '$$cid'] } } }, { $project: { _id: 0 } }],
          as: 'c',
        },
      },
    ]);
    expect(l2[0]?.c).toEqual([{ name: 'Ann' }]);
    const f = await agg([
      { $facet: { n: [{ $count: 'n' }], top: [{ $sort: { amt: -1 } }, { $limit: 1 }, { $project: { _id: 1 } }] } },
    ]);
    expect(f).toEqual([{ n: [{ n: 3 }], top: [{ _id: 2 }] }]);
    expect(await agg([{ $sortByCount: '$cust' }])).toEqual([
      { _id: 'c1', count: 2 },
      { _id: 'c2', count: 1 },
    ]);
    expect(await agg([{ $bucket: { groupBy: '$amt', boundaries: [0, 10, 100], default: 'other' } }])).toEqual([
      { _id: 0, count: 1 },
      { _id: 10, count: 2 },
    ]);
    expect(await agg([{ $match: { _id: 1 } }, { $replaceRoot: { newRoot: '$sub' } }])).toEqual([{ a: 1 }]);
    expect(await agg([{ $sort: { _id: 1 } }, { $skip: 1 }, { $limit: 1 }, { $project: { _id: 1 } }])).toEqual([
      { _id: 2 },
    ]);
  });

  it('$unionWith and $setWindowFields', async () => {
    const u = await agg([
      { $project: { _id: 1 } },
      { $unionWith: { coll: 'custs', pipeline: [{ $project: { _id: 1 } }] } },
    ]);
    expect(u.map((d) => d._id)).toEqual([1, 2, 3, 'c1', 'c2']);
    const w = await agg([
      {
        $setWindowFields: {
          partitionBy: '$cust',
          sortBy: { _id: 1 },
          output: { running: { $sum: '$amt', window: { documents: ['unbounded', 'current'] } } },
        },
      },
      { $sort: { _id: 1 } },
      { $project: { running: 1 } },
    ]);
    expect(w).toEqual([
      { _id: 1, running: 10 },
      { _id: 2, running: 30 },
      { _id: 3, running: 5 },
    ]);
  });

  it('BSON expressions: $toDate(ObjectId), $toObjectId, $type, $dateToString, $dateTrunc', async () => {
    const oid = new ObjectId('65a000000000000000000000');
    await t.db
      .collection('h55')
      .insertOne({ _id: oid, s: '65a000000000000000000001', d: new Date('2024-03-05T10:20:30Z') });
    const [r] = await agg(
      [
        {
          $project: {
            _id: 0,
            ts: { $toDate: '$_id' },
            o: { $toObjectId: '$s' },
            t1: { $type: '$_id' },
            t2: { $type: '$missing' },
            ds: { $dateToString: { format: '%Y-%m-%d', date: '$d' } },
            tr: { $dateTrunc: { date: '$d', unit: 'day' } },
          },
        },
      ],
      'h55',
    );
    expect(r).toEqual({
      ts: oid.getTimestamp(),
      o: new ObjectId('65a000000000000000000001'),
      t1: 'objectId',
      t2: 'missing',
      ds: '2024-03-05',
      tr: new Date('2024-03-05T00:00:00Z'),
    });
  });

  it('regression: $addFields/$set on nested paths do not change stored documents', async () => {
    await agg([{ $addFields: { 'sub.b': 2 } }, { $set: { 'sub.c': 3 } }]);
    expect(await t.db.collection('orders').findOne({ _id: 1 as never }, { projection: { sub: 1, _id: 0 } })).toEqual({
      sub: { a: 1 },
    });
  });

  it('$out replaces the target and keeps its unique indexes enforced', async () => {
    const target = t.db.collection('h57');
    await target.insertOne({ stale: true });
    await target.createIndex({ cust: 1 }, { unique: true });
    await agg([
      { $group: { _id: '$cust', total: { $sum: '$amt' } } },
      { $project: { _id: 0, cust: '$_id', total: 1 } },
      { $out: 'h57' },
    ]);
    expect(await target.find({}, { projection: { _id: 0 }, sort: { cust: 1 } }).toArray()).toEqual([
      { total: 30, cust: 'c1' },
      { total: 5, cust: 'c2' },
    ]);
    expect((await target.listIndexes().toArray()).map((i) => i.name)).toContain('cust_1');
    const dup = await agg([{ $project: { _id: 0, cust: 1 } }, { $out: 'h57' }]).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(MongoServerError);
    expect(await target.countDocuments()).toBe(2);
  });

  it('aggregate cursor batching including batchSize 0', async () => {
    await t.db.collection('h58').insertMany(Array.from({ length: 30 }, (_, i) => ({ i })));
    const zero = await t.db.command(
      { aggregate: 'h58', pipeline: [], cursor: { batchSize: 0 } },
      { promoteLongs: false },
    );
    expect(zero.cursor.firstBatch).toEqual([]);
    const more = await t.db.command({ getMore: zero.cursor.id, collection: 'h58', batchSize: 25 });
    expect(more.cursor.nextBatch).toHaveLength(25);
    expect(await t.db.collection('h58').aggregate([], { batchSize: 4 }).toArray()).toHaveLength(30);
  });
});
