import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from './collection.js';
import { Index } from './indexes.js';
import { Journal } from './journal.js';
import { candidates } from './planner.js';
import { startDevMongo, type DevMongoServer } from './index.js';

// Behaviour specific to the dev server (not part of the MongoDB conformance suite).
const lines: Array<{ obj: object; msg?: string }> = [];
const logger = {
  info: (obj: object, msg?: string) => lines.push({ obj, msg }),
  warn: () => undefined,
  error: () => undefined,
};

let server: DevMongoServer;
let client: MongoClient;
beforeAll(async () => {
  server = await startDevMongo({ logger, logCommands: true });
  client = await MongoClient.connect(`${server.uri}/devonly`);
});
afterAll(async () => {
  await client.close();
  await server.stop();
});

describe('dev server specifics', () => {
  it('aborts an open transaction whose client died (kill -9 mid-transaction): none of its writes stay', async () => {
    // A child process starts a transaction, inserts, then SIGKILLs itself before committing.
    const script = `
      const { MongoClient } = require('mongodb');
      (async () => {
        const c = await MongoClient.connect(process.argv[1]);
        const s = c.startSession();
        s.startTransaction();
        await c.db('devonly').collection('killed_txn').insertOne({ _id: 'half-done' }, { session: s });
        process.kill(process.pid, 'SIGKILL');
      })();`;
    // Asynchronous: the server runs in this process and must keep answering the child.
    const child = spawn(process.execPath, ['-e', script, `${server.uri}/devonly`], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      stdio: 'ignore',
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, sig) => resolve(sig)),
    );
    expect(signal).toBe('SIGKILL');
    const coll = client.db('devonly').collection('killed_txn');
    const deadline = Date.now() + 5000;
    while ((await coll.countDocuments({ _id: 'half-done' } as never)) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await coll.countDocuments({ _id: 'half-done' } as never)).toBe(0);
  });

  it('says in its first log line that it is a development/test server, not MongoDB', () => {
    expect(lines[0]?.msg).toMatch(/development\/test server, NOT MongoDB/);
  });

  it('refuses to start with NODE_ENV=production', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await expect(startDevMongo({ logger })).rejects.toThrow(/production/);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('--log-commands logs each command with its name', async () => {
    await client.db('devonly').collection('logged').insertOne({ a: 1 });
    expect(lines.some((l) => (l.obj as { command?: string }).command === 'insert')).toBe(true);
  });

  it.each([
    ['$text', { $text: { $search: 'x' } }],
    ['$near', { loc: { $near: [0, 0] } }],
    ['$where', { $where: 'this.a > 1' }],
  ])('answers an unsupported %s with a MongoDB-shaped error naming it', async (feature, filter) => {
    const err = await client
      .db('devonly')
      .collection('logged')
      .findOne(filter)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 238, codeName: 'NotImplemented' });
    expect((err as Error).message).toContain(feature);
  });

  it('collation other than simple is rejected with a named error; $merge and explain too', async () => {
    const c = client.db('devonly').collection('logged');
    await expect(c.find({}, { collation: { locale: 'en', strength: 2 } }).toArray()).rejects.toThrow(/collation/);
    await expect(c.aggregate([{ $merge: { into: 'x' } }]).toArray()).rejects.toThrow(/\$merge/);
    await expect(client.db('devonly').command({ watch: 1 })).rejects.toMatchObject({ code: 59 });
  });

  it('reset() drops all data', async () => {
    await client.db('devonly').collection('r').insertOne({ a: 1 });
    await server.reset();
    expect(await client.db('devonly').collection('r').countDocuments()).toBe(0);
  });

  it('persists to --data-file on stop and reloads on start', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dev-mongo-'));
    const dataFile = path.join(dir, 'data.bson');
    try {
      const a = await startDevMongo({ logger, dataFile });
      const ca = await MongoClient.connect(a.uri);
      await ca.db('p').collection('c').createIndex({ k: 1 }, { unique: true });
      await ca
        .db('p')
        .collection('c')
        .insertMany([{ k: 1, d: new Date(0) }, { k: 2 }]);
      await ca.close();
      await a.stop();
      const b = await startDevMongo({ logger, dataFile });
      const cb = await MongoClient.connect(b.uri);
      expect(await cb.db('p').collection('c').countDocuments()).toBe(2);
      await expect(cb.db('p').collection('c').insertOne({ k: 1 })).rejects.toMatchObject({ code: 11000 });
      await cb.close();
      await b.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stop() with a transaction open saves none of its writes and every acknowledged one (regression: a MongoDB restart)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dev-mongo-'));
    const dataFile = path.join(dir, 'data.bson');
    try {
      // Snapshots every millisecond: the final one must not race a periodic one still writing.
      const a = await startDevMongo({ logger, dataFile, snapshotIntervalMs: 1 });
      const ca = await MongoClient.connect(a.uri);
      const c = ca.db('p').collection('c');
      for (let i = 0; i < 20; i++) await c.insertMany(Array.from({ length: 50 }, (_, j) => ({ i, j })));
      const session = ca.startSession();
      session.startTransaction();
      await c.insertOne({ _id: 'open-at-stop' } as never, { session });
      await c.updateOne({ i: 0, j: 0 }, { $set: { touched: true } }, { session });
      await c.insertOne({ _id: 'last-acknowledged' } as never);
      await a.stop();
      await ca.close().catch(() => undefined);
      const b = await startDevMongo({ logger, dataFile });
      const cb = await MongoClient.connect(b.uri);
      const reloaded = cb.db('p').collection('c');
      expect(await reloaded.countDocuments({ _id: 'last-acknowledged' } as never)).toBe(1);
      expect(await reloaded.countDocuments({ _id: 'open-at-stop' } as never)).toBe(0);
      expect(await reloaded.countDocuments({ touched: true })).toBe(0);
      expect(await reloaded.countDocuments({ i: { $exists: true } })).toBe(1000);
      await cb.close();
      await b.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('planner: an equality+range query on a compound index only visits matching index ranges', () => {
    const coll = new Collection('db', 'schedules', {}, new Journal());
    coll.addIndex(new Index({ v: 2, key: { corpId: 1, status: 1, dueAt: 1 }, name: 'corpId_1_status_1_dueAt_1' }));
    for (let i = 0; i < 5000; i++)
      coll.insert({ _id: i, corpId: `c${i % 10}`, status: i % 2 ? 'pending' : 'done', dueAt: new Date(i * 1000) });
    const found = candidates(coll, { corpId: 'c3', status: 'pending', dueAt: { $lte: new Date(1_000_000) } });
    expect(found?.length).toBe(100);
    expect(found?.every((d) => d.corpId === 'c3' && d.status === 'pending')).toBe(true);
    expect(candidates(coll, { other: 1 })).toBeUndefined();
  });

  it('planner: a sparse index serves non-null bounds; a partial one only filters that imply its expression', () => {
    const coll = new Collection('db', 'tasks', {}, new Journal());
    coll.addIndex(new Index({ v: 2, key: { scheduleId: 1 }, name: 'scheduleId_1', unique: true, sparse: true }));
    coll.addIndex(
      new Index({
        v: 2,
        key: { corpId: 1, broadcastId: 1 },
        name: 'corpId_1_broadcastId_1',
        partialFilterExpression: { kind: 'broadcast_confirm' },
      }),
    );
    coll.addIndex(
      new Index({
        v: 2,
        key: { vehicleId: 1 },
        name: 'vehicleId_1',
        partialFilterExpression: { vehicleId: { $exists: true } },
      }),
    );
    for (let i = 0; i < 2000; i++)
      coll.insert({
        _id: i,
        corpId: 'c1',
        ...(i % 2 ? { scheduleId: `s${i}` } : {}),
        ...(i % 3 ? { vehicleId: `v${i % 7}` } : {}),
        kind: i % 5 ? 'followup' : 'broadcast_confirm',
        broadcastId: `b${i % 4}`,
      });
    expect(candidates(coll, { scheduleId: 's7' })?.map((d) => d._id)).toEqual([7]);
    expect(candidates(coll, { scheduleId: { $in: ['s1', 's3', 's4'] } })?.length).toBe(2);
    // null and $exists:false must see the documents the sparse index leaves out: a scan.
    expect(candidates(coll, { scheduleId: null })).toBeUndefined();
    expect(candidates(coll, { scheduleId: { $exists: false } })).toBeUndefined();
    // The partial index holds only broadcast confirmations: usable only when the filter says so.
    expect(candidates(coll, { corpId: 'c1', broadcastId: 'b1' })).toBeUndefined();
    const confirmations = candidates(coll, { corpId: 'c1', broadcastId: 'b1', kind: 'broadcast_confirm' });
    expect(confirmations?.length).toBe(100);
    expect(confirmations?.every((d) => d.kind === 'broadcast_confirm')).toBe(true);
    expect(candidates(coll, { corpId: 'c1', broadcastId: 'b1', kind: { $eq: 'broadcast_confirm' } })?.length).toBe(100);
    expect(candidates(coll, { corpId: 'c1', broadcastId: 'b1', kind: 'followup' })).toBeUndefined();
    expect(candidates(coll, { vehicleId: 'v3' })?.length).toBeGreaterThan(0);
    expect(candidates(coll, { vehicleId: { $ne: 'v3' } })).toBeUndefined();
  });

  it('queries served by sparse and partial indexes return what a scan returns', async () => {
    const coll = client.db('sparsepartial').collection<Record<string, unknown>>('t');
    await coll.createIndex({ scheduleId: 1 }, { unique: true, sparse: true });
    await coll.createIndex({ corpId: 1, n: 1 }, { partialFilterExpression: { kind: 'b' } });
    await coll.insertMany(
      Array.from({ length: 300 }, (_, i) => ({
        _id: i,
        corpId: 'c',
        n: i % 10,
        kind: i % 3 ? 'a' : 'b',
        ...(i % 2 ? { scheduleId: i } : {}),
      })) as never,
    );
    const ids = async (filter: Record<string, unknown>) =>
      (await coll.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids({ scheduleId: 7 })).toEqual([7]);
    expect(await ids({ scheduleId: 8 })).toEqual([]);
    expect(await ids({ scheduleId: { $gte: 295 } })).toEqual([295, 297, 299]);
    expect((await ids({ scheduleId: null })).length).toBe(150);
    expect(await ids({ corpId: 'c', n: 3, kind: 'b' })).toEqual(
      [3, 33, 63, 93, 123, 153, 183, 213, 243, 273].filter((i) => i % 3 === 0),
    );
    expect((await ids({ corpId: 'c', n: 3 })).length).toBe(30);
    // An update that moves a document into and out of the partial index keeps it findable both ways.
    await coll.updateOne({ _id: 4 } as never, { $set: { kind: 'b', n: 3 } });
    expect(await ids({ corpId: 'c', n: 3, kind: 'b' })).toContain(4);
    await coll.updateOne({ _id: 3 } as never, { $set: { kind: 'a' } });
    expect(await ids({ corpId: 'c', n: 3, kind: 'b' })).not.toContain(3);
    const dup = await coll.insertOne({ _id: 1000, scheduleId: 7 } as never).catch((e: unknown) => e);
    expect((dup as MongoServerError).code).toBe(11000);
  });

  it('a read-only pipeline ($match, $group, $sort, $count …) runs on stored documents without changing them', async () => {
    const coll = client.db('aggro').collection<Record<string, unknown>>('t');
    await coll.insertMany(
      Array.from({ length: 20 }, (_, i) => ({ _id: i, g: i % 3, sub: { n: i, list: [i, i + 1] } })) as never,
    );
    const before = await coll.find().sort({ _id: 1 }).toArray();
    const grouped = await coll
      .aggregate([
        { $match: { _id: { $gte: 2 } } },
        { $sort: { _id: -1 } },
        {
          $group: {
            _id: '$g',
            docs: { $push: '$$ROOT' },
            subs: { $push: '$sub' },
            first: { $first: '$sub' },
            total: { $sum: '$sub.n' },
          },
        },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(grouped.map((g) => [g._id, g.total, (g.docs as unknown[]).length])).toEqual([
      [0, 63, 6],
      [1, 69, 6],
      [2, 57, 6],
    ]);
    expect(grouped[0]?.first).toEqual({ n: 18, list: [18, 19] });
    expect(await coll.countDocuments({ g: 1 })).toBe(7);
    expect(await coll.aggregate([{ $match: { g: 2 } }, { $count: 'n' }]).toArray()).toEqual([{ n: 6 }]);
    expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual(before);
  });

  it('a plain inclusion projection returns _id first, then the listed fields in the stored order', async () => {
    const coll = client.db('proj').collection<{ _id: number; a?: number; b?: { c: number }; z?: string }>('p');
    await coll.insertMany([
      { _id: 1, z: 'z', a: 1, b: { c: 2 } },
      { _id: 2, a: 3 },
    ]);
    const rows = await coll
      .find({}, { projection: { b: 1, z: 1 } })
      .sort({ _id: 1 })
      .toArray();
    expect(rows.map((r) => Object.keys(r))).toEqual([['_id', 'z', 'b'], ['_id']]);
    expect(rows[0]).toEqual({ _id: 1, z: 'z', b: { c: 2 } });
    expect(await coll.find({ _id: 1 }, { projection: { a: 1, _id: 0 } }).toArray()).toEqual([{ a: 1 }]);
  });

  it('an update by a long _id $in list matches exactly those ids and still applies the rest of the filter', async () => {
    const coll = client.db('idin').collection<{ _id: number; status: string }>('s');
    await coll.insertMany(
      Array.from({ length: 3000 }, (_, i) => ({ _id: i, status: i % 3 === 0 ? 'enqueued' : 'planned' })),
    );
    const ids = Array.from({ length: 2000 }, (_, i) => i * 2 - 1); // odd ids, and -1 (absent)
    const res = await coll.updateMany({ _id: { $in: ids }, status: 'planned' }, { $set: { status: 'enqueued' } });
    const expected = ids.filter((i) => i >= 0 && i < 3000 && i % 3 !== 0).length;
    expect(res.modifiedCount).toBe(expected);
    expect(await coll.countDocuments({ status: 'enqueued' })).toBe(1000 + expected);
    // _id constrained twice ($and): both conditions hold, whichever the lookup used.
    expect(await coll.countDocuments({ _id: { $in: [1, 2, 3] }, $and: [{ _id: { $in: [3, 4] } }] })).toBe(1);
    expect(await coll.countDocuments({ _id: { $in: [1, 2, 3], $ne: 2 } })).toBe(2);
  });
});
