import { Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { MAX_BOUND, MIN_BOUND } from './bson-values.js';
import { encodeIndexKey } from './index-key.js';
import { SortedList, compareKeys } from './sorted-list.js';

// The encoded form must order (and equate) tuples exactly as compareKeys does, or index walks
// would return wrong ranges. Values cover every encoded type, edge numbers and unencoded ones.
const values: unknown[] = [
  null,
  undefined,
  -Infinity,
  -1.5,
  -0,
  0,
  1,
  1.0000001,
  2 ** 53,
  Infinity,
  '',
  'a',
  'ab',
  'b',
  'a\u00e9',
  '\uffff',
  new Date(-1),
  new Date(0),
  new Date(1_750_000_000_000),
  true,
  false,
  new ObjectId('000000000000000000000000'),
  new ObjectId('65a000000000000000000001'),
  new ObjectId('ffffffffffffffffffffffff'),
  Long.fromNumber(1),
  NaN,
  'nul\u0000inside',
  { nested: 1 },
  [1, 2],
];

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('index key encoding', () => {
  it('orders every pair of encodable tuples as compareKeys does', () => {
    const tuples: unknown[][] = [];
    for (const a of values) for (const b of values.slice(0, 12)) tuples.push([a, b]);
    let encoded = 0;
    for (const x of tuples) {
      for (const y of tuples) {
        const ex = encodeIndexKey(x);
        const ey = encodeIndexKey(y);
        if (ex === undefined || ey === undefined) continue;
        encoded++;
        expect([x, y, sign(ex < ey ? -1 : ex > ey ? 1 : 0)]).toEqual([x, y, sign(compareKeys(x, y))]);
      }
    }
    expect(encoded).toBeGreaterThan(10_000);
  });

  it('leaves NaN, Long, strings with NUL, documents and arrays to member-wise comparison', () => {
    for (const v of [NaN, Long.fromNumber(1), 'nul\u0000inside', { nested: 1 }, [1, 2], new Date(NaN)])
      expect(encodeIndexKey([v])).toBeUndefined();
  });

  it('a list mixing encoded and unencoded keys keeps tuple order and finds ranges with bounds', () => {
    const list = new SortedList();
    const keys = values.map((v, i) => ({ key: [v], id: `s${String(i).padStart(3, '0')}` }));
    for (const k of [...keys].reverse()) list.insert(k);
    const walked = Array.from(list.range([MIN_BOUND], [MAX_BOUND]));
    for (let i = 1; i < walked.length; i++)
      expect(compareKeys(walked[i - 1]?.key ?? [], walked[i]?.key ?? [])).toBeLessThanOrEqual(0);
    expect(walked).toHaveLength(keys.length);
    expect(Array.from(list.range(['a'], ['b'])).map((e) => e.key[0])).toEqual(['a', 'ab', 'a\u00e9', 'b']);
    for (const k of keys) expect(list.remove(k)).toBe(true);
    expect(list.size).toBe(0);
  });
});
