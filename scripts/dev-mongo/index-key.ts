import { ObjectId } from 'bson';
import { MAX_BOUND, MIN_BOUND } from './bson-values.js';

/**
 * Order-preserving string form of an index key tuple: for two encodable tuples of the same
 * length, comparing the strings (UTF-16 code units, JavaScript's `<`) gives the sign that
 * `compareKeys` gives, and equal strings mean equal keys. Why: index maintenance binary-searches
 * ~20 entries per insert or remove, and one string comparison is several times cheaper than
 * ranking and comparing each tuple member. Only the common scalar types are encoded (null,
 * finite numbers, strings without NUL, ObjectIds, booleans, valid dates, and the range bounds);
 * a tuple holding anything else gets no string and is compared member by member as before.
 *
 * Each member is its BSON type rank (as one character) followed by a payload that never makes one
 * member a prefix of another of the same rank, so tuples compare member after member.
 */
export function encodeIndexKey(key: readonly unknown[]): string | undefined {
  const parts: string[] = [];
  for (const v of key) {
    const part = encodeMember(v);
    if (part === undefined) return undefined;
    parts.push(part);
  }
  // join makes one flat string; `+=` would leave a rope that every later comparison walks through.
  return parts.join('');
}

// Rank characters: bson-values' typeRank + 1 (so MIN_BOUND's 0 is not the NUL terminator).
const R_MIN = '\u0001';
const R_NULL = '\u0003';
const R_NUMBER = '\u0004';
const R_STRING = '\u0005';
const R_OBJECT_ID = '\u0009';
const R_BOOLEAN = '\u000a';
const R_DATE = '\u000b';
const R_MAX = '\u0065';

const view = new DataView(new ArrayBuffer(8));

/**
 * A double as 4 UTF-16 units whose order is the numeric order: IEEE 754 bits big-endian, with
 * the sign bit flipped for positives and every bit flipped for negatives. -0 is encoded as 0
 * (MongoDB compares them equal). NaN is not encoded.
 */
function encodeDouble(n: number): string | undefined {
  if (Number.isNaN(n)) return undefined;
  view.setFloat64(0, n === 0 ? 0 : n);
  let hi = view.getUint32(0);
  let lo = view.getUint32(4);
  if (hi & 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else {
    hi = (hi | 0x80000000) >>> 0;
  }
  return String.fromCharCode(hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff);
}

/** bson 7 keeps an ObjectId as four 24-bit words in byte order; each becomes two 12-bit units. */
function encodeObjectId(v: ObjectId): string | undefined {
  const w = v as unknown as { i0?: unknown; i1?: unknown; i2?: unknown; i3?: unknown };
  if (typeof w.i0 !== 'number' || typeof w.i1 !== 'number' || typeof w.i2 !== 'number' || typeof w.i3 !== 'number')
    return undefined;
  return String.fromCharCode(
    w.i0 >>> 12,
    w.i0 & 0xfff,
    w.i1 >>> 12,
    w.i1 & 0xfff,
    w.i2 >>> 12,
    w.i2 & 0xfff,
    w.i3 >>> 12,
    w.i3 & 0xfff,
  );
}

function encodeMember(v: unknown): string | undefined {
  if (v === null || v === undefined) return R_NULL;
  switch (typeof v) {
    case 'string':
      // NUL terminates the member, so a shorter string sorts first; a string holding NUL is not encoded.
      return v.includes('\u0000') ? undefined : `${R_STRING}${v}\u0000`;
    case 'number': {
      const d = encodeDouble(v);
      return d === undefined ? undefined : R_NUMBER + d;
    }
    case 'boolean':
      return v ? `${R_BOOLEAN}1` : `${R_BOOLEAN}0`;
    case 'symbol':
      return v === MIN_BOUND ? R_MIN : v === MAX_BOUND ? R_MAX : undefined;
    default:
      break;
  }
  if (v instanceof Date) {
    const d = encodeDouble(v.getTime());
    return d === undefined ? undefined : R_DATE + d;
  }
  if (v instanceof ObjectId) {
    const o = encodeObjectId(v);
    return o === undefined ? undefined : R_OBJECT_ID + o;
  }
  return undefined;
}
