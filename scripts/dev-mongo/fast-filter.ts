import { ObjectId, type Document } from 'bson';
import { isPlainObject } from './bson-values.js';

/** A filter's answer for one document: no, yes, or "ask mingo" (a case this file does not decide). */
export const NO = 0;
export const YES = 1;
export const ASK = 2;
export type Verdict = typeof NO | typeof YES | typeof ASK;

export type FastFilter = (doc: Document) => Verdict;

type Scalar = string | number | boolean | Date | ObjectId;

/** Values this file compares itself: the types of nearly every stored field and query literal. */
function isScalarLiteral(v: unknown): v is Scalar {
  if (typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return !Number.isNaN(v);
  if (v instanceof Date) return !Number.isNaN(v.getTime());
  return v instanceof ObjectId;
}

/** A stored value whose type is one of the above (or null/missing): comparisons with it are decided here. */
function isKnownScalar(v: unknown): boolean {
  return v === null || v === undefined || isScalarLiteral(v);
}

/** Equality of one stored value (not an array) with a literal: YES/NO when both types are known. */
function equalsScalar(v: unknown, lit: Scalar): Verdict {
  if (typeof lit === 'string' || typeof lit === 'number' || typeof lit === 'boolean') {
    if (typeof v === typeof lit) return v === lit ? YES : NO;
  } else if (lit instanceof Date) {
    if (v instanceof Date) return v.getTime() === lit.getTime() ? YES : NO;
  } else if (v instanceof ObjectId) {
    return v.equals(lit) ? YES : NO;
  }
  // Different BSON types are never equal (MongoDB's type bracketing).
  return isKnownScalar(v) ? NO : ASK;
}

/** The BSON order class of a literal for ranges: numbers, strings and dates compare within their class. */
function compareScalar(v: unknown, lit: Scalar): number | undefined {
  if (typeof lit === 'number' && typeof v === 'number')
    return Number.isNaN(v) ? undefined : v < lit ? -1 : v > lit ? 1 : 0;
  if (typeof lit === 'string' && typeof v === 'string') return v < lit ? -1 : v > lit ? 1 : 0;
  if (lit instanceof Date && v instanceof Date) {
    const a = v.getTime();
    const b = lit.getTime();
    if (Number.isNaN(a)) return undefined;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return undefined;
}

/** A test of one leaf value (not an array). */
type LeafTest = (v: unknown) => Verdict;

/** Any of several verdicts: YES if one is, NO if all are, ASK otherwise. */
function any(values: readonly unknown[], test: LeafTest): Verdict {
  let unknown = false;
  for (const v of values) {
    const r = test(v);
    if (r === YES) return YES;
    if (r === ASK) unknown = true;
  }
  return unknown ? ASK : NO;
}

const NOT = [YES, NO, ASK] as const;

/**
 * The values a dotted path reaches: through plain objects, and through arrays of plain objects
 * (MongoDB's implicit array traversal). Undefined when the walk meets something this file does
 * not decide (a numeric path part on an array, an array inside an array): mingo answers then.
 */
function reach(doc: Document, parts: readonly string[]): unknown[] | undefined {
  if (parts.length === 1) {
    const v: unknown = doc[parts[0] as string];
    return v === undefined ? [] : [v];
  }
  let current: unknown[] = [doc];
  for (const part of parts) {
    const next: unknown[] = [];
    for (const v of current) {
      if (isPlainObject(v)) {
        if (v[part] !== undefined) next.push(v[part]);
      } else if (Array.isArray(v)) {
        if (/^\d+$/.test(part)) return undefined;
        for (const el of v) {
          if (isPlainObject(el)) {
            if (el[part] !== undefined) next.push(el[part]);
          } else if (Array.isArray(el)) return undefined;
        }
      } else if (!isKnownScalar(v)) return undefined;
    }
    current = next;
  }
  return current;
}

/**
 * A path condition true when some reached value (or, for an array, some element of it) passes
 * `leaf`; values that are arrays of arrays or documents are left to mingo.
 */
function someLeaf(parts: readonly string[], leaf: LeafTest): FastFilter {
  const elementTest = (v: unknown): Verdict => (Array.isArray(v) || isPlainObject(v) ? ASK : leaf(v));
  const valueTest = (v: unknown): Verdict => {
    if (Array.isArray(v)) return any(v, elementTest);
    if (isPlainObject(v)) return ASK;
    return leaf(v);
  };
  return (doc) => {
    const values = reach(doc, parts);
    return values === undefined ? ASK : any(values, valueTest);
  };
}

/** `{path: null}`: the field is null or missing; decided only along plain objects. */
function isNullOrMissing(parts: readonly string[]): FastFilter {
  return (doc) => {
    let cur: unknown = doc;
    for (const part of parts) {
      if (!isPlainObject(cur)) return ASK;
      cur = cur[part];
      if (cur === undefined) return YES;
    }
    if (cur === null) return YES;
    return isScalarLiteral(cur) ? NO : ASK;
  };
}

/** `$exists`, decided along plain objects only. */
function exists(parts: readonly string[], wanted: boolean): FastFilter {
  return (doc) => {
    let cur: unknown = doc;
    for (const part of parts) {
      if (!isPlainObject(cur)) return cur === undefined || isKnownScalar(cur) ? (wanted ? NO : YES) : ASK;
      cur = cur[part];
    }
    return (cur !== undefined) === wanted ? YES : NO;
  };
}

function equality(parts: readonly string[], lit: unknown): FastFilter | undefined {
  if (lit === null) return isNullOrMissing(parts);
  if (!isScalarLiteral(lit)) return undefined;
  return someLeaf(parts, (v) => equalsScalar(v, lit));
}

function membership(parts: readonly string[], list: unknown): FastFilter | undefined {
  if (!Array.isArray(list) || !list.every(isScalarLiteral)) return undefined;
  const strings = list.every((v) => typeof v === 'string') ? new Set<unknown>(list) : undefined;
  if (strings)
    return someLeaf(parts, (v) => (typeof v === 'string' ? (strings.has(v) ? YES : NO) : isKnownScalar(v) ? NO : ASK));
  return someLeaf(parts, (v) => any(list, (lit) => equalsScalar(v, lit as Scalar)));
}

function range(parts: readonly string[], op: string, lit: unknown): FastFilter | undefined {
  if (!(typeof lit === 'number' || typeof lit === 'string' || lit instanceof Date) || !isScalarLiteral(lit))
    return undefined;
  const pass = (c: number): boolean => (op === '$gt' ? c > 0 : op === '$gte' ? c >= 0 : op === '$lt' ? c < 0 : c <= 0);
  return someLeaf(parts, (v) => {
    const c = compareScalar(v, lit);
    if (c !== undefined) return pass(c) ? YES : NO;
    return isKnownScalar(v) ? NO : ASK;
  });
}

const negate =
  (f: FastFilter): FastFilter =>
  (doc) =>
    NOT[f(doc)];

/** One field's condition: a literal, or an object of operators (each a conjunct). */
function fieldCondition(path: string, cond: unknown): FastFilter[] | undefined {
  if (path.length === 0 || path.split('.').some((p) => p.length === 0)) return undefined;
  const parts = path.split('.');
  if (!isPlainObject(cond)) {
    const f = equality(parts, cond);
    return f ? [f] : undefined;
  }
  const ops = Object.keys(cond);
  if (ops.length === 0 || !ops.every((op) => op.startsWith('$'))) return undefined; // an embedded-document literal
  const out: FastFilter[] = [];
  for (const op of ops) {
    const v: unknown = cond[op];
    let f: FastFilter | undefined;
    if (op === '$eq') f = equality(parts, v);
    else if (op === '$ne') f = mapDefined(equality(parts, v), negate);
    else if (op === '$in') f = membership(parts, v);
    else if (op === '$nin') f = mapDefined(membership(parts, v), negate);
    else if (op === '$gt' || op === '$gte' || op === '$lt' || op === '$lte') f = range(parts, op, v);
    else if (op === '$exists' && typeof v === 'boolean') f = exists(parts, v);
    if (!f) return undefined;
    out.push(f);
  }
  return out;
}

function mapDefined<T, U>(v: T | undefined, fn: (v: T) => U): U | undefined {
  return v === undefined ? undefined : fn(v);
}

function conjuncts(filter: Document, out: FastFilter[]): boolean {
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and') {
      if (!Array.isArray(cond) || cond.length === 0) return false;
      for (const sub of cond) if (!isPlainObject(sub) || !conjuncts(sub, out)) return false;
      continue;
    }
    if (key.startsWith('$')) return false;
    const fs = fieldCondition(key, cond);
    if (!fs) return false;
    out.push(...fs);
  }
  return true;
}

/**
 * A filter compiled to plain JavaScript for the conditions nearly every query uses (equality,
 * `$ne`, `$in`, `$nin`, ranges and `$exists` on strings, numbers, booleans, dates, ObjectIds and
 * null, combined by the top level and `$and`), or undefined when the filter holds anything else.
 * Each document gets YES or NO where the answer follows from MongoDB's rules for these types
 * (type bracketing, array elements, missing fields), and ASK otherwise, which the caller
 * answers with mingo. Why: mingo's per-document test cost ~4 µs even for `{eventId: "…"}`,
 * which made every scan and every residual test of a large candidate set the main cost of a
 * command (found profiling `bench:leads`; docs/dev-mongo.md).
 */
export function compileFastFilter(filter: Document): FastFilter | undefined {
  const tests: FastFilter[] = [];
  if (!conjuncts(filter, tests)) return undefined;
  if (tests.length === 1) return tests[0];
  return (doc) => {
    let unknown = false;
    for (const t of tests) {
      const r = t(doc);
      if (r === NO) return NO;
      if (r === ASK) unknown = true;
    }
    return unknown ? ASK : YES;
  };
}
