import { Binary, Decimal128, Long, ObjectId, Timestamp, type Document } from 'bson';

/** Sentinels below/above every BSON value, used for index range bounds. */
export const MIN_BOUND = Symbol('min-bound');
export const MAX_BOUND = Symbol('max-bound');

function bsonTypeOf(v: object): string | undefined {
  const t = (v as { _bsontype?: unknown })._bsontype;
  return typeof t === 'string' ? t : undefined;
}

/** True for `{...}` documents (not arrays, dates or BSON class instances). */
export function isPlainObject(v: unknown): v is Document {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Numeric view of a BSON number, or undefined when `v` is not numeric. */
export function toNumeric(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Long) return v.toNumber();
  if (v instanceof Decimal128) return Number(v.toString());
  if (v !== null && typeof v === 'object') {
    const t = bsonTypeOf(v);
    if (t === 'Int32' || t === 'Double') return (v as { valueOf(): number }).valueOf();
  }
  return undefined;
}

/** Rank in MongoDB's cross-type comparison order (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/). */
export function typeRank(v: unknown): number {
  if (v === MIN_BOUND) return 0;
  if (v === MAX_BOUND) return 100;
  if (v === undefined || v === null) return 2;
  if (typeof v === 'number' || typeof v === 'bigint') return 3;
  if (typeof v === 'string') return 4;
  if (typeof v === 'boolean') return 9;
  if (v instanceof Date) return 10;
  if (v instanceof RegExp) return 12;
  if (Array.isArray(v)) return 6;
  if (typeof v === 'object') {
    switch (bsonTypeOf(v)) {
      case 'MinKey':
        return 1;
      case 'MaxKey':
        return 99;
      case 'Long':
      case 'Decimal128':
      case 'Int32':
      case 'Double':
        return 3;
      case 'BSONSymbol':
        return 4;
      case 'Binary':
        return 7;
      case 'ObjectId':
        return 8;
      case 'Timestamp':
        return 11;
      case 'BSONRegExp':
        return 12;
      case undefined:
        return 5;
      default:
        return 5;
    }
  }
  return 5;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** bson 7 keeps an ObjectId as four 24-bit words (big-endian thirds of its 12 bytes). */
type ObjectIdWords = { i0?: unknown; i1?: unknown; i2?: unknown; i3?: unknown };

/**
 * Byte order of two ObjectIds. Why not `.id`: that getter allocates a fresh 12-byte buffer on
 * every read, and index maintenance compares a customer-id key ~20 times per write. The words
 * compare in the same order as the bytes; other bson builds (no words) fall back to the bytes.
 */
function compareObjectIds(a: ObjectId, b: ObjectId): number {
  const x = a as unknown as ObjectIdWords;
  const y = b as unknown as ObjectIdWords;
  if (
    typeof x.i0 === 'number' &&
    typeof x.i1 === 'number' &&
    typeof x.i2 === 'number' &&
    typeof x.i3 === 'number' &&
    typeof y.i0 === 'number' &&
    typeof y.i1 === 'number' &&
    typeof y.i2 === 'number' &&
    typeof y.i3 === 'number'
  ) {
    if (x.i0 !== y.i0) return x.i0 < y.i0 ? -1 : 1;
    if (x.i1 !== y.i1) return x.i1 < y.i1 ? -1 : 1;
    if (x.i2 !== y.i2) return x.i2 < y.i2 ? -1 : 1;
    return x.i3 === y.i3 ? 0 : x.i3 < y.i3 ? -1 : 1;
  }
  return compareBytes(a.id, b.id);
}

/** Total order over BSON values following MongoDB's comparison rules. */
export function compareValues(a: unknown, b: unknown): number {
  // Index keys are mostly strings, dates and plain numbers: the same answers as the general
  // cases below, without ranking the types first (index maintenance compares ~20 keys a write).
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) {
    const x = a.getTime();
    const y = b.getTime();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'number' && typeof b === 'number' && !Number.isNaN(a) && !Number.isNaN(b))
    return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof ObjectId && b instanceof ObjectId) return compareObjectIds(a, b);
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 3: {
      if (a instanceof Long && b instanceof Long) return a.compare(b);
      const x = toNumeric(a) ?? 0;
      const y = toNumeric(b) ?? 0;
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : 1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 4: {
      const x = String(a);
      const y = String(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 5:
      return compareDocuments(a as Document, b as Document);
    case 6: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    case 7: {
      const x = a as Binary;
      const y = b as Binary;
      if (x.length() !== y.length()) return x.length() < y.length() ? -1 : 1;
      if (x.sub_type !== y.sub_type) return x.sub_type < y.sub_type ? -1 : 1;
      return compareBytes(x.buffer, y.buffer);
    }
    case 8:
      return compareObjectIds(a as ObjectId, b as ObjectId);
    case 9:
      return a === b ? 0 : a ? 1 : -1;
    case 10: {
      const x = (a as Date).getTime();
      const y = (b as Date).getTime();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 11:
      return (a as Timestamp).compare(b as Timestamp);
    case 12: {
      const x = String(a);
      const y = String(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default:
      return 0;
  }
}

function compareDocuments(a: Document, b: Document): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const fa = ka[i] as string;
    const fb = kb[i] as string;
    const r = compareValues(typeRank(a[fa]), typeRank(b[fb]));
    if (r !== 0) return r;
    if (fa !== fb) return fa < fb ? -1 : 1;
    const c = compareValues(a[fa], b[fb]);
    if (c !== 0) return c;
  }
  return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
}

/**
 * A canonical string for hash-map keys: values that MongoDB considers equal
 * (1, 1.0, Long(1); null and missing) map to the same string.
 */
export function keyOf(v: unknown): string {
  if (v === undefined || v === null) return 'z';
  switch (typeof v) {
    case 'number':
      return Object.is(v, -0) ? 'n0' : `n${v}`;
    case 'string':
      return `s${v}`;
    case 'boolean':
      return v ? 'b1' : 'b0';
    case 'bigint':
      return `n${v}`;
    default:
      break;
  }
  if (v instanceof Date) return `d${v.getTime()}`;
  if (v instanceof RegExp) return `r/${v.source}/${v.flags}`;
  if (Array.isArray(v)) return `[${v.map(keyOf).join(',')}]`;
  if (typeof v === 'object') {
    switch (bsonTypeOf(v)) {
      case 'ObjectId':
        return `o${(v as ObjectId).toHexString()}`;
      case 'Long': {
        const l = v as Long;
        return l.lessThanOrEqual(Number.MAX_SAFE_INTEGER) && l.greaterThanOrEqual(Number.MIN_SAFE_INTEGER)
          ? `n${l.toNumber()}`
          : `n${l.toString()}`;
      }
      case 'Decimal128':
        return `n${Number((v as Decimal128).toString())}`;
      case 'Int32':
      case 'Double':
        return `n${(v as { valueOf(): number }).valueOf()}`;
      case 'Binary':
        return `x${(v as Binary).sub_type}:${(v as Binary).toString('base64')}`;
      case 'Timestamp':
        return `t${(v as Timestamp).toString()}`;
      case 'MinKey':
        return 'm-';
      case 'MaxKey':
        return 'm+';
      case undefined: {
        const doc = v as Document;
        return `{${Object.keys(doc)
          .map((k) => `${JSON.stringify(k)}:${keyOf(doc[k])}`)
          .join(',')}}`;
      }
      default:
        return `?${String(v)}`;
    }
  }
  return `?${String(v)}`;
}

/** Deep copy of plain objects and arrays; BSON class instances are immutable and shared. */
export function deepClone<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x: unknown) => deepClone(x)) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (isPlainObject(v)) {
    const out: Document = {};
    for (const k of Object.keys(v)) out[k] = deepClone(v[k]);
    return out as T;
  }
  return v;
}

/**
 * Every value a dotted path reaches, descending through arrays the way index keys and
 * sort keys do (one level of array elements at the leaf). Missing → [].
 */
export function pathValues(doc: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  collect(doc, path.split('.'), 0, out, true);
  return out;
}

function collect(value: unknown, parts: string[], i: number, out: unknown[], expandLeaf: boolean): void {
  if (i === parts.length) {
    if (Array.isArray(value) && expandLeaf) {
      if (value.length === 0) out.push(undefined);
      for (const el of value) out.push(el);
    } else if (value !== undefined) {
      out.push(value);
    }
    return;
  }
  const part = parts[i] as string;
  if (Array.isArray(value)) {
    if (/^\d+$/.test(part)) {
      collect(value[Number(part)], parts, i + 1, out, expandLeaf);
      return;
    }
    for (const el of value) if (isPlainObject(el)) collect(el, parts, i, out, expandLeaf);
    return;
  }
  if (isPlainObject(value)) collect(value[part], parts, i + 1, out, expandLeaf);
}

/** Renders a value the way MongoDB prints it in E11000 messages. */
export function renderValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return `[ ${v.map(renderValue).join(', ')} ]`;
  if (v instanceof RegExp) return `/${v.source}/${v.flags}`;
  if (typeof v === 'object') {
    switch (bsonTypeOf(v)) {
      case 'ObjectId':
        return `ObjectId('${(v as ObjectId).toHexString()}')`;
      case 'Long':
        return String(v);
      case 'Decimal128':
        return `${(v as Decimal128).toString()}`;
      case 'Binary':
        return `BinData(${(v as Binary).sub_type}, ${(v as Binary).toString('hex').toUpperCase()})`;
      case undefined: {
        const doc = v as Document;
        const keys = Object.keys(doc);
        return keys.length === 0 ? '{}' : `{ ${keys.map((k) => `${k}: ${renderValue(doc[k])}`).join(', ')} }`;
      }
      default:
        return String(v);
    }
  }
  return String(v);
}
