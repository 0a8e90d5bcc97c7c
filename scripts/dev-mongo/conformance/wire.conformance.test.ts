import net from 'node:net';
import { serialize, UUID } from 'bson';
import { MongoClient, MongoNetworkError, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevMongo } from '../index.js';
import { openTarget, withDb, type Target } from './conformance.test-support.js';
import { RawConnection, opMsg } from './raw-wire.js';

let t: Target;
beforeAll(async () => {
  t = await openTarget('wire');
});
afterAll(async () => {
  await t.close();
});

/** A throwaway server that answers every request with a fixed hello (config tests 3 and 13). */
async function fakeHello(hello: Record<string, unknown>): Promise<{ uri: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('data', (chunk: Buffer) => {
      const requestId = chunk.readInt32LE(4);
      const opCode = chunk.readInt32LE(12);
      const body = Buffer.from(serialize({ ...hello, localTime: new Date() }));
      const head = Buffer.alloc(16);
      if (opCode === 2004) {
        const fields = Buffer.alloc(20);
        fields.writeInt32LE(1, 16);
        head.writeInt32LE(16 + 20 + body.length, 0);
        head.writeInt32LE(requestId, 8);
        head.writeInt32LE(1, 12);
        s.write(Buffer.concat([head, fields, body]));
      } else {
        head.writeInt32LE(16 + 5 + body.length, 0);
        head.writeInt32LE(requestId, 8);
        head.writeInt32LE(2013, 12);
        s.write(Buffer.concat([head, Buffer.alloc(5), body]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    uri: `mongodb://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('A. wire and handshake', () => {
  it('OP_QUERY ismaster handshake: the driver connects and classifies a writable server', async () => {
    const client = new MongoClient(withDb(t.uri, t.dbName), { serverSelectionTimeoutMS: 5000 });
    const types: string[] = [];
    client.on('serverDescriptionChanged', (e) => types.push(e.newDescription.type));
    await client.connect();
    await client.db(t.dbName).command({ ping: 1 });
    await client.close();
    expect(types.some((ty) => ty === 'Standalone' || ty === 'RSPrimary')).toBe(true);
  });

  it('hello honours helloOk and uses isWritablePrimary; isMaster answers ismaster', async () => {
    const hello = await t.db.admin().command({ hello: 1, helloOk: true });
    expect(hello.ok).toBe(1);
    expect(hello.isWritablePrimary).toBe(true);
    expect(hello.helloOk).toBe(true);
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(9);
    expect(hello.logicalSessionTimeoutMinutes).toBeTypeOf('number');
    const legacy = await t.db.admin().command({ isMaster: 1 });
    expect(legacy.ismaster).toBe(true);
  });

  it('[docs] driver 7.x rejects maxWireVersion < 9 (config test against a fixed hello)', async () => {
    const fake = await fakeHello({
      ok: 1,
      ismaster: true,
      minWireVersion: 0,
      maxWireVersion: 8,
      maxBsonObjectSize: 16777216,
    });
    const client = new MongoClient(fake.uri, { serverSelectionTimeoutMS: 1500 });
    await expect(client.connect()).rejects.toThrow(/wire version/);
    await client.close();
    await fake.close();
  });

  it('[docs] sessions are unavailable when logicalSessionTimeoutMinutes is absent (config test)', async () => {
    const fake = await fakeHello({
      ok: 1,
      ismaster: true,
      isWritablePrimary: true,
      minWireVersion: 0,
      maxWireVersion: 21,
      maxBsonObjectSize: 16777216,
    });
    const client = new MongoClient(fake.uri, { serverSelectionTimeoutMS: 1500 });
    await client.connect();
    const session = client.startSession();
    session.startTransaction();
    await expect(client.db('x').collection('y').insertOne({ a: 1 }, { session })).rejects.toThrow(
      /does not support sessions/,
    );
    await session.endSession().catch(() => undefined);
    await client.close();
    await fake.close();
  });

  it('kind-1 sequences: insertMany and a mixed bulkWrite', async () => {
    const c = t.db.collection('seq');
    const r = await c.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(r.insertedCount).toBe(3);
    const b = await c.bulkWrite([
      { updateOne: { filter: { a: 1 }, update: { $set: { b: 1 } } } },
      { updateMany: { filter: { a: { $gte: 2 } }, update: { $set: { b: 2 } } } },
      { deleteOne: { filter: { a: 3 } } },
      { insertOne: { document: { a: 4 } } },
    ]);
    expect(b.matchedCount).toBe(3);
    expect(b.modifiedCount).toBe(3);
    expect(b.deletedCount).toBe(1);
    expect(b.insertedCount).toBe(1);
    expect(await c.countDocuments()).toBe(3);
  });

  it('moreToCome: w:0 insert and endSessions get no reply; pairing stays correct', async () => {
    const c = t.db.collection('w0');
    await c.insertOne({ k: 'fire-and-forget' }, { writeConcern: { w: 0 } });
    const session = t.client.startSession();
    await c.findOne({}, { session });
    await session.endSession();
    expect(await c.findOne({ k: 'fire-and-forget' }, { projection: { _id: 0 } })).toEqual({ k: 'fire-and-forget' });
    expect((await t.db.command({ ping: 1 })).ok).toBe(1);
  });

  it('framing: split frames, several frames per chunk, checksum trailer ignored', async () => {
    const raw = await RawConnection.open(t.uri);
    const a = opMsg(101, { ping: 1, $db: 'admin' });
    raw.socket.write(a.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 20));
    raw.socket.write(a.subarray(7));
    raw.socket.write(
      Buffer.concat([opMsg(102, { ping: 1, $db: 'admin' }), opMsg(103, { ping: 1, $db: 'admin' }, { checksum: true })]),
    );
    expect(await raw.waitFor(() => raw.replies.length === 3)).toBe(true);
    expect(raw.replies.map((r) => r.responseTo)).toEqual([101, 102, 103]);
    expect(raw.replies.every((r) => r.body.ok === 1)).toBe(true);
    raw.close();
  });

  it('an oversized frame or unknown opCode closes that connection only', async () => {
    const big = await RawConnection.open(t.uri);
    const header = Buffer.alloc(16);
    header.writeInt32LE(200 * 1024 * 1024, 0);
    header.writeInt32LE(2013, 12);
    big.socket.write(header);
    expect(await big.waitFor(() => big.closed)).toBe(true);
    const odd = await RawConnection.open(t.uri);
    odd.socket.write(opMsg(7, { ping: 1, $db: 'admin' }, { opCode: 9999 }));
    expect(await odd.waitFor(() => odd.closed)).toBe(true);
    expect((await t.db.command({ ping: 1 })).ok).toBe(1);
  });

  it('unknown command → 59 CommandNotFound', async () => {
    const err = await t.db.command({ noSuchCommandAtAll: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 59, codeName: 'CommandNotFound' });
  });

  it('concurrent pool connections get their own replies', async () => {
    const c = t.db.collection('concurrent');
    await c.insertMany(Array.from({ length: 40 }, (_, i) => ({ i })));
    const client = await MongoClient.connect(withDb(t.uri, t.dbName), { maxPoolSize: 8, minPoolSize: 4 });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.db(t.dbName).collection('concurrent').findOne({ i })),
    );
    await client.close();
    expect(results.map((d) => d?.i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('dev server: ephemeral port, stop while connected → MongoNetworkError, no hang', async () => {
    const server = await startDevMongo({
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    expect(server.port).toBeGreaterThan(0);
    expect(server.uri).toBe(`mongodb://127.0.0.1:${server.port}`);
    const client = await MongoClient.connect(server.uri, {
      serverSelectionTimeoutMS: 500,
      retryReads: false,
      retryWrites: false,
    });
    await client.db('x').command({ ping: 1 });
    await server.stop();
    const err = await client
      .db('x')
      .collection('y')
      .findOne({})
      .catch((e: unknown) => e);
    expect(
      err instanceof MongoNetworkError ||
        (err instanceof Error && /Server selection|connect|closed/i.test(err.message)),
    ).toBe(true);
    await client.close();
  });
});

describe('B. sessions and generic fields', () => {
  it('generic fields are accepted and never stored', async () => {
    await t.db.command({ create: 'generic', comment: 'c', maxTimeMS: 5000, writeConcern: { w: 1 } });
    const [info] = await t.db.listCollections({ name: 'generic' }, { nameOnly: false }).toArray();
    expect(info?.options).toEqual({});
    const c = t.db.collection('generic');
    await c.insertOne({ a: 1 }, { comment: 'x', writeConcern: { w: 1 } });
    const doc = await c.findOne(
      {},
      { comment: 'y', maxTimeMS: 5000, readConcern: { level: 'local' }, projection: { _id: 0 } },
    );
    expect(doc).toEqual({ a: 1 });
  });

  it('endSessions and killAllSessions answer ok', async () => {
    expect((await t.db.admin().command({ endSessions: [{ id: new UUID() }] })).ok).toBe(1);
    expect((await t.db.admin().command({ killAllSessions: [] })).ok).toBe(1);
  });
});
