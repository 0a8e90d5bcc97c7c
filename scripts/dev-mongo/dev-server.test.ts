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
