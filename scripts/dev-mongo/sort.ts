import type { Document } from 'bson';
import { compareValues, pathValues } from './bson-values.js';

export type SortSpec = Record<string, number>;

/**
 * Sort key of one field: MongoDB uses the smallest array element for ascending
 * and the largest for descending sorts; a missing field sorts as null.
 */
function sortKey(doc: Document, path: string, dir: number): unknown {
  const values = pathValues(doc, path);
  if (values.length === 0) return null;
  let best = values[0];
  for (let i = 1; i < values.length; i++) {
    const c = compareValues(values[i], best);
    if ((dir > 0 && c < 0) || (dir < 0 && c > 0)) best = values[i];
  }
  return best;
}

/** Validates a sort specification (1 / -1 per field). */
export function parseSort(spec: unknown): Array<[string, number]> {
  if (spec === undefined || spec === null) return [];
  if (typeof spec !== 'object' || Array.isArray(spec)) throw new Error('sort must be an object');
  return Object.entries(spec as Document).map(([path, dir]) => {
    if (typeof dir === 'object' && dir !== null && '$meta' in dir) throw new Error('$meta sort is not supported');
    const n = Number(dir);
    if (n !== 1 && n !== -1) throw new Error(`$sort key ordering must be 1 (for ascending) or -1 (for descending)`);
    return [path, n];
  });
}

/** Stable sort of documents (by reference) with MongoDB's BSON order; returns a new array. */
export function sortDocuments<T extends Document>(docs: readonly T[], spec: unknown): T[] {
  const fields = parseSort(spec);
  if (fields.length === 0) return docs.slice();
  const keyed = docs.map((doc, i) => ({ doc, i, keys: fields.map(([p, d]) => sortKey(doc, p, d)) }));
  keyed.sort((a, b) => {
    for (let f = 0; f < fields.length; f++) {
      const c = compareValues(a.keys[f], b.keys[f]);
      if (c !== 0) return c * (fields[f]?.[1] ?? 1);
    }
    return a.i - b.i;
  });
  return keyed.map((k) => k.doc);
}
