import { Decimal128, type Document } from 'bson';
import { Query } from 'mingo/query';
import { isPlainObject } from './bson-values.js';
import type { Collection } from './collection.js';
import { CommandError, notImplemented } from './errors.js';
import { ASK, YES, compileFastFilter } from './fast-filter.js';
import { examined } from './command-profile.js';
import { compiledQueryOptions } from './mingo-context.js';
import { planScan } from './planner.js';
import { parseSort, sortDocuments } from './sort.js';

const UNSUPPORTED_QUERY_OPS: Record<string, string> = {
  $text: '$text (text search)',
  $near: '$near (geospatial queries)',
  $nearSphere: '$nearSphere (geospatial queries)',
  $geoWithin: '$geoWithin (geospatial queries)',
  $geoIntersects: '$geoIntersects (geospatial queries)',
  $where: '$where (server-side JavaScript)',
  $function: '$function (server-side JavaScript)',
  $accumulator: '$accumulator (server-side JavaScript)',
};

/** Throws a named "not supported" error for features the dev server does not implement. */
export function rejectUnsupported(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) rejectUnsupported(v);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const feature = UNSUPPORTED_QUERY_OPS[k];
    if (feature) throw notImplemented(feature);
    rejectUnsupported(v);
  }
}

/**
 * Query literals of type Decimal128 become JS numbers so they compare with stored numbers
 * (mingo has no Decimal128 arithmetic; precision beyond a double is lost, see docs).
 */
export function normalizeLiterals(value: unknown): unknown {
  if (value instanceof Decimal128) return Number(value.toString());
  if (Array.isArray(value)) return value.map(normalizeLiterals);
  if (isPlainObject(value)) {
    const out: Document = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalizeLiterals(v);
    return out;
  }
  return value;
}

/** A compiled filter; errors from mingo become BadValue (code 2). */
export function compileFilter(filter: unknown): Query {
  if (filter !== undefined && filter !== null && !isPlainObject(filter))
    throw new CommandError(14, "BSON field 'filter' is the wrong type, expected type 'object'");
  const f = (filter ?? {}) as Document;
  rejectUnsupported(f);
  try {
    return new Query(normalizeLiterals(f) as Document, compiledQueryOptions);
  } catch (err) {
    throw new CommandError(2, err instanceof Error ? err.message : String(err));
  }
}

/** Rejects collations other than the simple binary one (docs/dev-mongo.md). */
export function rejectCollation(collation: unknown): void {
  if (collation === undefined || collation === null) return;
  if (isPlainObject(collation) && collation.locale === 'simple') return;
  throw notImplemented('collation');
}

/**
 * Matching stored documents (by reference, never copied), using an index when one
 * fits the filter and stopping after `limit` matches (caller must not need a sort).
 */
export function matchDocuments(coll: Collection | undefined, filter: unknown, limit = 0): Document[] {
  return findDocuments(coll, filter, { limit });
}

function residualWithout(filter: Document, fields: readonly string[]): Document {
  const rest: Document = {};
  for (const [k, v] of Object.entries(filter)) if (!fields.includes(k)) rest[k] = v;
  return rest;
}

export interface FindOptions {
  sort?: unknown;
  skip?: number;
  limit?: number;
}

/**
 * Matches in `sort` order with `skip`/`limit` applied. When the chosen index walk already
 * yields that order (equality prefix + sorted field, e.g. `{status, dueAt}` for
 * `{status: 'planned', dueAt: {$lte}}` sorted by `dueAt`), the walk stops after skip + limit
 * matches instead of testing, collecting and sorting every candidate.
 */
export function findDocuments(coll: Collection | undefined, filter: unknown, opts: FindOptions = {}): Document[] {
  const fields = parseSort(opts.sort);
  const skip = opts.skip ?? 0;
  const limit = opts.limit ?? 0;
  const f = (filter ?? {}) as Document;
  const scan = coll && isPlainObject(f) ? planScan(coll, f, fields) : undefined;
  const inOrder = fields.length === 0 || scan?.sorted === true;
  const stopAt = inOrder && limit > 0 ? skip + limit : 0;
  const out: Document[] = [];
  // Candidates looked up by an exact `_id` list, or walked from an index by exact values, already
  // satisfy those conditions: testing them again would hash every listed value for each document
  // (a 1,000-value $in made a batch quadratic).
  const exact = scan?.idExact ? ['_id'] : (scan?.exactFields ?? []);
  const residual = exact.length > 0 ? residualWithout(f, exact) : undefined;
  const remaining = residual ?? f;
  // Most filters compile to plain JavaScript (fast-filter.ts), which is valid by construction;
  // mingo then only compiles when a document needs it. Otherwise compiling also validates: a bad
  // filter fails even on a missing collection. The `_id` list an exact lookup leaves out holds
  // only plain values, so there is nothing in it to validate.
  const fast = isPlainObject(remaining) ? compileFastFilter(remaining) : undefined;
  let test = fast ? undefined : compileFilter(residual ?? filter);
  if (!coll) return [];
  const empty = Object.keys(remaining).length === 0;
  for (const doc of scan?.docs ?? coll.docs.values()) {
    examined.docs++;
    if (!coll.visible(doc)) continue;
    let match = empty;
    if (!match) {
      const verdict = fast ? fast(doc) : ASK;
      if (verdict === ASK) {
        test ??= compileFilter(residual ?? filter);
        match = test.test(doc);
      } else match = verdict === YES;
    }
    if (match) {
      out.push(doc);
      if (stopAt > 0 && out.length >= stopAt) break;
    }
  }
  const ordered = inOrder ? out : sortDocuments(out, opts.sort);
  return skip > 0 || limit > 0 ? ordered.slice(skip, limit > 0 ? skip + limit : undefined) : ordered;
}
