import {
  Binary,
  BSONRegExp,
  Decimal128,
  Long,
  MaxKey,
  MinKey,
  MongoServerError,
  ObjectId,
  Timestamp,
  UUID,
  type Document,
} from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, type Target } from './conformance.test-support.js';

let t: Target;
beforeAll(async () => {
  t = await openTarget('types');
});
afterAll(async () => {
  await t.close();
});

describe('J. types and errors', () => {
  it('round trip of BSON types (int64 > 2^53 stays Long; integral doubles come back as numbers)', async () => {
    const c = t.db.collection('j65');
    const doc: Document = {
      _id: 1,
      oid: new ObjectId('65a000000000000000000000'),
      date: new Date('2024-01-02T03:04:05.678Z'),
      dec: Decimal128.fromString('1.10'),
      bin: new Binary(Buffer.from([1, 2, 3])),
      uuid: new UUID('0b6f3b6c-2a3c-4c1d-8e8f-0123456789ab'),
      small: Long.fromNumber(42),
      big: Long.fromString('9007199254740993'),
      dbl: 2.5,
      ts: new Timestamp({ t: 5, i: 1 }),
      re: /ab+c/im,
      min: new MinKey(),
      max: new MaxKey(),
      nested: [
        [1, 2],
        [3, [4]],
      ],
    };
    await c.insertOne(doc);
    const back = await c.findOne({ _id: 1 as never }, { promoteLongs: false, promoteValues: true });
    expect(back?.oid).toEqual(doc.oid);
    expect(back?.date).toEqual(doc.date);
    expect(String(back?.dec)).toBe('1.10');
    expect(Array.from((back?.bin as Binary).buffer)).toEqual([1, 2, 3]);
    expect((back?.uuid as Binary).toUUID().toHexString().replace(/-/g, '')).toBe('0b6f3b6c2a3c4c1d8e8f0123456789ab');
    expect(String(back?.big)).toBe('9007199254740993');
    expect(Number(back?.small)).toBe(42);
    expect(back?.dbl).toBe(2.5);
    expect((back?.ts as Timestamp).toString()).toBe(new Timestamp({ t: 5, i: 1 }).toString());
    const re = back?.re as RegExp | BSONRegExp;
    expect(re instanceof RegExp ? re.flags : re.options).toMatch(/^(im|mi)$/);
    expect(back?.min).toBeInstanceOf(MinKey);
    expect(back?.max).toBeInstanceOf(MaxKey);
    expect(back?.nested).toEqual([
      [1, 2],
      [3, [4]],
    ]);
  });

  it('numeric equality across 1, 1.0, Long(1), Decimal128("1") in filters and unique keys', async () => {
    const c = t.db.collection('j66');
    await c.insertOne({ _id: 'a' as never, n: Long.fromNumber(1) });
    for (const probe of [1, 1.0, Long.fromNumber(1), Decimal128.fromString('1')]) {
      expect(await c.countDocuments({ n: probe })).toBe(1);
    }
    await c.createIndex({ n: 1 }, { unique: true });
    const err = await c.insertOne({ _id: 'b' as never, n: 1.0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 11000 });
  });

  it('every error carries ok:0, errmsg, code, codeName and MongoServerError exposes them', async () => {
    const err = await t.db
      .command({ create: 'j67' })
      .then(() => t.db.command({ create: 'j67' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    const e = err as MongoServerError;
    expect(e.errorResponse).toMatchObject({ ok: 0, code: 48, codeName: 'NamespaceExists' });
    expect(typeof e.errorResponse.errmsg).toBe('string');
    expect(e.message).toBe(e.errorResponse.errmsg);
  });
});
