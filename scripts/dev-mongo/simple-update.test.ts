import { ObjectId, type Document } from 'bson';
import { update as mingoUpdate } from 'mingo/updater';
import { describe, expect, it } from 'vitest';
import { deepClone } from './bson-values.js';
import { queryOptions } from './mingo-context.js';
import { applySimpleUpdate } from './simple-update.js';

/** What mingo's updater (the path every update took before the fast path) makes of the same update. */
function viaMingo(doc: Document, ops: Document): { doc: Document; changed: boolean } {
  const next = deepClone(doc);
  const modifier: Document = {};
  for (const [op, fields] of Object.entries(ops)) if (op !== '$setOnInsert') modifier[op] = fields;
  const changed = mingoUpdate(next, modifier, undefined, undefined, {
    cloneMode: 'deep',
    queryOptions: queryOptions(),
  });
  return { doc: next, changed: changed.length > 0 };
}

/** Key order matters: MongoDB returns fields in stored order. */
const shape = (d: unknown): string => JSON.stringify(d);

const at = new Date('2026-12-07T02:00:00Z');
const stored: Document = {
  _id: new ObjectId('65a000000000000000000001'),
  eventId: 'e1',
  attempts: 2,
  nested: { n: 1, keep: 'k' },
  history: [{ at, action: 'created' }],
  error: 'boom',
};

describe('applySimpleUpdate (the fast path beside mingo updater)', () => {
  const cases: Array<[string, Document]> = [
    ['$inc an existing number', { $inc: { attempts: 1 } }],
    ['$inc by zero is no change', { $inc: { attempts: 0 } }],
    ['$inc a missing field creates it, even by zero', { $inc: { fresh: 0 } }],
    ['$inc a missing nested path creates its parents', { $inc: { 'deep.er.count': 3 } }],
    ['$inc into an existing object', { $inc: { 'nested.n': -1.5 } }],
    ['$push onto an array', { $push: { history: { at, action: 'told', detail: { count: 2 } } } }],
    ['$push onto a missing field', { $push: { tags: 'a' } }],
    ['$push onto a missing nested field', { $push: { 'nested.list': { x: 1 } } }],
    [
      'the domain-event upsert shape, operators in the order given',
      {
        $setOnInsert: { __v: 0 },
        $unset: { error: 1 },
        $inc: { attempts: 1 },
        $set: { status: 'processing', 'nested.n': 2, updatedAt: at },
      },
    ],
    ['new fields in operator order', { $push: { p: 1 }, $set: { s: 1 }, $inc: { i: 1 } }],
    ['$set of equal values only is no change', { $set: { eventId: 'e1', 'nested.n': 1 } }],
  ];
  for (const [title, ops] of cases) {
    it(title, () => {
      const fast = applySimpleUpdate(stored, ops);
      expect(fast).toBeDefined();
      const reference = viaMingo(stored, ops);
      expect(shape(fast?.doc)).toBe(shape(reference.doc));
      expect(fast?.changed).toBe(reference.changed);
    });
  }

  it('never changes the stored document and shares untouched values', () => {
    const before = shape(stored);
    const fast = applySimpleUpdate(stored, { $push: { history: { action: 'x' } }, $inc: { 'nested.n': 1 } });
    expect(shape(stored)).toBe(before);
    expect(fast?.doc.history).not.toBe(stored.history);
    expect((fast?.doc.history as unknown[])[0]).toBe((stored.history as unknown[])[0]);
    expect(fast?.doc.nested).not.toBe(stored.nested);
  });

  it('leaves to mingo what it does not decide itself', () => {
    expect(applySimpleUpdate(stored, { $inc: { eventId: 1 } })).toBeUndefined(); // non-numeric target
    expect(applySimpleUpdate(stored, { $inc: { attempts: '1' } })).toBeUndefined();
    expect(applySimpleUpdate(stored, { $push: { eventId: 1 } })).toBeUndefined(); // not an array
    expect(applySimpleUpdate(stored, { $push: { history: { $each: [1, 2] } } })).toBeUndefined();
    expect(applySimpleUpdate(stored, { $push: { 'history.0.tags': 1 } })).toBeUndefined();
    expect(applySimpleUpdate(stored, { $inc: { 'history.$.n': 1 } })).toBeUndefined();
    expect(applySimpleUpdate(stored, { $min: { attempts: 1 } })).toBeUndefined();
  });
});
