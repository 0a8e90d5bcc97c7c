import { Long, ObjectId, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { ASK, YES, compileFastFilter } from './fast-filter.js';
import { compileFilter } from './query.js';

const oid = new ObjectId('65a000000000000000000001');
const other = new ObjectId('65a000000000000000000002');
const day = new Date('2026-12-07T00:00:00Z');
const later = new Date('2026-12-08T00:00:00Z');

/** Stored documents covering each type, arrays, nesting, missing and null fields. */
const docs: Document[] = [
  {},
  { a: 1 },
  { a: 2.5 },
  { a: -0 },
  { a: Number.NaN },
  { a: 'x' },
  { a: 'y' },
  { a: '' },
  { a: true },
  { a: false },
  { a: null },
  { a: day },
  { a: later },
  { a: oid },
  { a: other },
  { a: [] },
  { a: [1, 'x'] },
  { a: [2.5, day] },
  { a: [null] },
  { a: [[1]] },
  { a: { b: 1 } },
  { a: { b: 'x', c: null } },
  { a: { b: [1, 2] } },
  { a: [{ b: 1 }, { b: 'x' }] },
  { a: [{ c: 1 }, 5] },
  { a: 5, b: 'x' },
  { a: 'x', b: day, c: oid },
  { a: Long.fromString('9007199254740993') },
];

const literals: unknown[] = [1, 2.5, 0, 'x', 'y', '', true, false, null, day, later, oid];

function filters(): Document[] {
  const out: Document[] = [];
  for (const path of ['a', 'a.b', 'a.c', 'b']) {
    for (const v of literals) {
      out.push({ [path]: v }, { [path]: { $eq: v } }, { [path]: { $ne: v } });
      if (v !== null && typeof v !== 'boolean' && !(v instanceof ObjectId))
        for (const op of ['$gt', '$gte', '$lt', '$lte']) out.push({ [path]: { [op]: v } });
    }
    out.push(
      { [path]: { $in: ['x', 'y'] } },
      { [path]: { $in: [1, 'x', day, oid] } },
      { [path]: { $nin: ['x', 1] } },
      { [path]: { $exists: true } },
      { [path]: { $exists: false } },
      { [path]: { $gte: 1, $lt: 3 } },
    );
  }
  out.push(
    { a: 'x', b: day },
    { $and: [{ a: { $ne: null } }, { b: { $exists: false } }] },
    { a: 5, b: { $in: ['x'] } },
  );
  return out;
}

describe('compileFastFilter decides exactly what mingo decides', () => {
  it('on every document × filter of a corpus of types, arrays, nesting and missing fields', () => {
    let decided = 0;
    let total = 0;
    for (const filter of filters()) {
      const fast = compileFastFilter(filter);
      expect(fast, JSON.stringify(filter)).toBeDefined();
      const reference = compileFilter(filter);
      for (const doc of docs) {
        total++;
        const verdict = fast?.(doc);
        if (verdict === ASK) continue;
        decided++;
        expect(verdict === YES, `${JSON.stringify(filter)} on ${JSON.stringify(doc)}`).toBe(reference.test(doc));
      }
    }
    // The point is deciding most cases without mingo.
    expect(decided / total).toBeGreaterThan(0.8);
  });

  it('leaves filters with other operators, regexes, documents and Decimal128 to mingo', () => {
    for (const filter of [
      { $or: [{ a: 1 }] },
      { a: /x/ },
      { a: { b: 1 } },
      { a: [1] },
      { a: { $regex: 'x' } },
      { a: { $elemMatch: { b: 1 } } },
      { a: { $in: [null] } },
      { a: { $exists: 1 } },
      { a: { $gt: true } },
      { 'a..b': 1 },
    ])
      expect(compileFastFilter(filter as Document), JSON.stringify(filter)).toBeUndefined();
  });
});
