import mongoose from 'mongoose';
import { MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, waitFor, withDb, type Target } from './conformance.test-support.js';

let t: Target;
beforeAll(async () => {
  t = await openTarget('colls');
});
afterAll(async () => {
  await t.close();
});

const codeOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'no error',
    (e: unknown) => (e instanceof MongoServerError ? e.code : e),
  );

describe('C. collections and indexes', () => {
  it('create ok; create again → 48 NamespaceExists', async () => {
    expect((await t.db.command({ create: 'c14' })).ok).toBe(1);
    const err = await t.db.command({ create: 'c14' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 48, codeName: 'NamespaceExists' });
  });

  it('drop existing and missing; listCollections filter, nameOnly, info.uuid, idIndex; listDatabases nameOnly', async () => {
    await t.db.createCollection('c15a');
    await t.db.createCollection('c15b');
    const full = await t.db.listCollections({ name: 'c15a' }, { nameOnly: false }).toArray();
    expect(full).toHaveLength(1);
    expect(full[0]).toMatchObject({
      name: 'c15a',
      type: 'collection',
      options: {},
      info: { readOnly: false },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    });
    expect(full[0]?.info?.uuid).toBeDefined();
    const names = await t.db.listCollections({}, { nameOnly: true }).toArray();
    expect(names.map((n) => n.name)).toEqual(expect.arrayContaining(['c15a', 'c15b']));
    expect(await t.db.collection('c15a').drop()).toBe(true);
    await expect(t.db.command({ drop: 'never_existed' })).resolves.toMatchObject({ ok: 1 });
    const dbs = await t.db.admin().command({ listDatabases: 1, nameOnly: true });
    expect(dbs.databases.map((d: { name: string }) => d.name)).toContain(t.dbName);
  });

  it('dropDatabase removes every collection', async () => {
    const other = t.client.db(`${t.dbName}_drop`);
    await other.collection('x').insertOne({ a: 1 });
    const reply = await other.command({ dropDatabase: 1 });
    expect(reply.ok).toBe(1);
    expect(await other.listCollections().toArray()).toEqual([]);
  });

  it('createIndexes: counts, createdCollectionAutomatically, options listed verbatim', async () => {
    const r = await t.db.command({
      createIndexes: 'c16',
      indexes: [
        { key: { a: 1 }, name: 'a_1', unique: true },
        { key: { b: 1, c: -1 }, name: 'b_1_c_-1', sparse: true },
        { key: { d: 1 }, name: 'd_1', partialFilterExpression: { d: { $type: 'string' } } },
        { key: { e: 1 }, name: 'e_1', expireAfterSeconds: 3600 },
      ],
    });
    expect(r).toMatchObject({ numIndexesBefore: 1, numIndexesAfter: 5, createdCollectionAutomatically: true, ok: 1 });
    const list = await t.db.collection('c16').listIndexes().toArray();
    expect(list).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { a: 1 }, name: 'a_1', unique: true },
      { v: 2, key: { b: 1, c: -1 }, name: 'b_1_c_-1', sparse: true },
      { v: 2, key: { d: 1 }, name: 'd_1', partialFilterExpression: { d: { $type: 'string' } } },
      { v: 2, key: { e: 1 }, name: 'e_1', expireAfterSeconds: 3600 },
    ]);
  });

  it('same spec → no-op; same name other key → 86; same key other name or same name other options → 85', async () => {
    const c = t.db.collection('c17');
    await c.createIndex({ a: 1 }, { name: 'a_1' });
    const again = await t.db.command({ createIndexes: 'c17', indexes: [{ key: { a: 1 }, name: 'a_1' }] });
    expect(again).toMatchObject({ numIndexesBefore: 2, numIndexesAfter: 2 });
    expect(await codeOf(c.createIndex({ b: 1 }, { name: 'a_1' }))).toBe(86);
    expect(await codeOf(c.createIndex({ a: 1 }, { name: 'other' }))).toBe(85);
    expect(await codeOf(c.createIndex({ a: 1 }, { name: 'a_1', unique: true }))).toBe(85);
  });

  it('unique index over existing duplicates → 11000 with the E11000 message', async () => {
    const c = t.db.collection('c18');
    await c.insertMany([{ email: 'x@y.z' }, { email: 'x@y.z' }]);
    const err = await c.createIndex({ email: 1 }, { unique: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 11000 });
    expect((err as Error).message).toContain(
      `E11000 duplicate key error collection: ${t.dbName}.c18 index: email_1 dup key: { email: "x@y.z" }`,
    );
    expect((await c.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('listIndexes on a missing collection → 26 NamespaceNotFound', async () => {
    const err = await t.db
      .collection('c19_missing')
      .listIndexes()
      .toArray()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 26, codeName: 'NamespaceNotFound' });
  });

  it('dropIndexes by name, key, array and "*"; missing → 27; _id_ → 72', async () => {
    const c = t.db.collection('c20');
    await c.createIndexes([
      { key: { a: 1 } },
      { key: { b: 1 } },
      { key: { c: 1 } },
      { key: { d: 1 } },
      { key: { e: 1 } },
    ]);
    expect((await t.db.command({ dropIndexes: 'c20', index: 'a_1' })).nIndexesWas).toBe(6);
    await t.db.command({ dropIndexes: 'c20', index: { b: 1 } });
    await t.db.command({ dropIndexes: 'c20', index: ['c_1'] });
    expect(await codeOf(t.db.command({ dropIndexes: 'c20', index: 'zzz_1' }))).toBe(27);
    expect(await codeOf(t.db.command({ dropIndexes: 'c20', index: '_id_' }))).toBe(72);
    await t.db.command({ dropIndexes: 'c20', index: '*' });
    expect((await c.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('mongoose init, syncIndexes, diffIndexes, cleanIndexes round trip', async () => {
    const conn = await mongoose.createConnection(withDb(t.uri, t.dbName)).asPromise();
    try {
      const schema = new mongoose.Schema({ email: { type: String, unique: true }, corpId: String, createdAt: Date });
      schema.index({ corpId: 1, createdAt: -1 });
      const M = conn.model('C21', schema, 'c21');
      await M.init();
      await M.collection.createIndex({ stale: 1 });
      expect(await M.diffIndexes()).toMatchObject({ toDrop: ['stale_1'], toCreate: [] });
      const dropped = await M.syncIndexes();
      expect(dropped).toEqual(['stale_1']);
      expect((await M.listIndexes()).map((i) => i.name).sort()).toEqual(['_id_', 'corpId_1_createdAt_-1', 'email_1']);
      await M.collection.createIndex({ stale2: 1 });
      expect(await M.cleanIndexes()).toEqual(['stale2_1']);
    } finally {
      await conn.close();
    }
  });

  it('TTL reaper deletes expired dates and ignores non-date values', async () => {
    const c = t.db.collection('c22');
    await c.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await c.insertMany([
      { k: 'old', expiresAt: new Date(Date.now() - 60_000) },
      { k: 'future', expiresAt: new Date(Date.now() + 3_600_000) },
      { k: 'string', expiresAt: '2000-01-01' },
    ]);
    // mongod's monitor runs every 60 s; the dev server in tests every 100 ms.
    const gone = await waitFor(
      async () => (await c.countDocuments({ k: 'old' })) === 0,
      t.real ? 130_000 : 10_000,
      t.real ? 1000 : 50,
    );
    expect(gone).toBe(true);
    expect((await c.find({}, { projection: { _id: 0, k: 1 } }).toArray()).map((d) => d.k).sort()).toEqual([
      'future',
      'string',
    ]);
  }, 140_000);
});
