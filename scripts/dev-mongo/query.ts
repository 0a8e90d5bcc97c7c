import { Decimal128, type Document } from 'bson';
import { Query } from 'mingo/query';
import { isPlainObject } from './bson-values.js';
import type { Collection } from './collection.js';
import { CommandError, notImplemented } from './errors.js';
import { queryOptions } from './mingo-context.js';
import { candidates } from './planner.js';

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
  if (filter !== undefined && filter !== null && !isPlainObject(filter)) throw new CommandError(14, "BSON field 'filter' is the wrong type, expected type 'object'");
  const f = (filter ?? {}) as Document;
  rejectUnsupported(f);
  try {
    return new Query(normalizeLiterals(f) as Document, queryOptions());
  } catch (err) {
    throw new CommandError(2, err instanceof Error ? err.message : String(err));
  }
}

/** Rejects collations other than the simple binary one (notes §6 gap 11). */
export function rejectCollation(collation: unknown): void {
  if (collation === undefined || collation === null) return;
  if (isPlainObject(collation) && collation.locale === 'simple') return;
  throw notImplemented('collation');
}

/**
 * Matching stored documents (by reference, never copied), using an index when one
 * fits the filter and stopping after `limit` matches when no sort is pending.
 */
export function matchDocuments(coll: Collection | undefined, filter: unknown, limit = 0): Document[] {
  if (!coll) {
    compileFilter(filter);
    return [];
  }
  const f = (filter ?? {}) as Document;
  const query = compileFilter(f);
  const source: Iterable<Document> = (isPlainObject(f) ? candidates(coll, f) : undefined) ?? coll.docs.values();
  const out: Document[] = [];
  const empty = Object.keys(f).length === 0;
  for (const doc of source) {
    if (empty || query.test(doc)) {
      out.push(doc);
      if (limit > 0 && out.length >= limit) break;
    }
  }
  return out;
}
