import { MIN_BOUND } from './bson-values.js';
import type { Store } from './storage.js';

/**
 * Deletes documents whose TTL-indexed date (the earliest, for arrays) is older than
 * `expireAfterSeconds`. Non-date values are ignored, as mongod does. Returns the count.
 */
export function reapExpired(store: Store, now = Date.now()): number {
  let removed = 0;
  for (const coll of store.allCollections()) {
    for (const index of coll.indexes) {
      if (index.expireAfterSeconds === undefined || index.fields.length !== 1) continue;
      const cutoff = new Date(now - index.expireAfterSeconds * 1000);
      const expired = new Set<string>();
      // Dates sort after every other scalar type, so [MIN, cutoff] holds all old dates.
      for (const e of index.tree.range([MIN_BOUND], [cutoff])) if (e.key[0] instanceof Date) expired.add(e.id);
      for (const id of expired) {
        const doc = coll.docs.get(id);
        if (doc) {
          coll.remove(doc);
          removed++;
        }
      }
    }
  }
  return removed;
}
