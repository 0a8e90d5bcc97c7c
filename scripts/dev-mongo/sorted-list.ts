import { compareValues } from './bson-values.js';
import { encodeIndexKey } from './index-key.js';

/** One index entry: the key tuple and the owning document's id key. */
export interface IndexEntry {
  key: unknown[];
  id: string;
}

const CHUNK = 256;

/** Tuple order; the document id breaks ties so every entry has an exact position. */
export function compareKeys(a: unknown[], b: unknown[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function compareEntries(a: IndexEntry, key: unknown[], id: string): number {
  const c = compareKeys(a.key, key);
  if (c !== 0) return c;
  return a.id < id ? -1 : a.id > id ? 1 : 0;
}

/**
 * What a search looks for: an exact entry (`id` set; `order` its order string) or a bound tuple
 * (`id` undefined; `order` the key's encoding). Either may lack an order string.
 */
interface Probe {
  key: unknown[];
  id: string | undefined;
  order: string | undefined;
}

/**
 * A sorted list split into chunks of at most CHUNK entries (a flat B-tree): insert and
 * delete cost O(log n + CHUNK), range scans start with a binary search.
 *
 * Beside each chunk of entries runs an array of their order strings: `encodeIndexKey(key)`
 * followed by the id (undefined for a key that has no encoding). Encoded keys of one width are
 * prefix-free, so comparing order strings is comparing (key, id). Why: binary searches over
 * 200,000 entries were dominated by memory stalls (entry object, key array, each value); an order
 * string is one object with its characters inline, found from a dense array, compared natively.
 */
export class SortedList {
  private chunks: IndexEntry[][] = [];
  private orders: Array<Array<string | undefined>> = [];
  private count = 0;
  /** Tuple length of the first key stored (an index's field count); other lengths are not encoded. */
  private width = -1;

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.chunks = [];
    this.orders = [];
    this.count = 0;
    this.width = -1;
  }

  private encode(key: unknown[]): string | undefined {
    if (this.width < 0) this.width = key.length;
    return key.length === this.width ? encodeIndexKey(key) : undefined;
  }

  private probe(key: unknown[], id: string | undefined): Probe {
    const sk = this.encode(key);
    return { key, id, order: sk === undefined || id === undefined ? sk : sk + id };
  }

  /** Entry `i` of chunk `ci` against a probe: by order strings when both have one. */
  private compareAt(ci: number, i: number, p: Probe): number {
    const order = (this.orders[ci] as Array<string | undefined>)[i];
    if (order !== undefined && p.order !== undefined) {
      if (p.id !== undefined) return order < p.order ? -1 : order > p.order ? 1 : 0;
      // A bound's encoding starts an entry's order string exactly when their keys are equal.
      if (order.startsWith(p.order)) return 0;
      return order < p.order ? -1 : 1;
    }
    const e = (this.chunks[ci] as IndexEntry[])[i] as IndexEntry;
    return p.id === undefined ? compareKeys(e.key, p.key) : compareEntries(e, p.key, p.id);
  }

  /** Index of the first chunk whose last entry is >= the target (or the last chunk). */
  private chunkFor(p: Probe): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compareAt(mid, (this.chunks[mid] as IndexEntry[]).length - 1, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position in chunk `ci` whose entry is >= the target. */
  private lowerBound(ci: number, p: Probe): number {
    let lo = 0;
    let hi = (this.chunks[ci] as IndexEntry[]).length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compareAt(ci, mid, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(raw: IndexEntry): void {
    const entry: IndexEntry = { key: raw.key, id: raw.id };
    const p = this.probe(entry.key, entry.id);
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push([entry]);
      this.orders.push([p.order]);
      return;
    }
    const ci = this.chunkFor(p);
    const pos = this.lowerBound(ci, p);
    const chunk = this.chunks[ci] as IndexEntry[];
    const orders = this.orders[ci] as Array<string | undefined>;
    chunk.splice(pos, 0, entry);
    orders.splice(pos, 0, p.order);
    if (chunk.length > CHUNK * 2) {
      this.chunks.splice(ci, 1, chunk.slice(0, CHUNK), chunk.slice(CHUNK));
      this.orders.splice(ci, 1, orders.slice(0, CHUNK), orders.slice(CHUNK));
    }
  }

  remove(entry: IndexEntry): boolean {
    if (this.chunks.length === 0) return false;
    const p = this.probe(entry.key, entry.id);
    const ci = this.chunkFor(p);
    const chunk = this.chunks[ci] as IndexEntry[];
    const pos = this.lowerBound(ci, p);
    if (pos >= chunk.length || this.compareAt(ci, pos, p) !== 0) return false;
    chunk.splice(pos, 1);
    (this.orders[ci] as Array<string | undefined>).splice(pos, 1);
    if (chunk.length === 0) {
      this.chunks.splice(ci, 1);
      this.orders.splice(ci, 1);
    }
    this.count--;
    return true;
  }

  /** Entries with lo <= key <= hi (tuple order; bounds may use MIN_BOUND/MAX_BOUND). */
  *range(lo: unknown[], hi: unknown[]): Generator<IndexEntry> {
    if (this.chunks.length === 0) return;
    const from = this.probe(lo, undefined);
    const to = this.probe(hi, undefined);
    let ci = this.chunkFor(from);
    let pos = this.lowerBound(ci, from);
    for (; ci < this.chunks.length; ci++, pos = 0) {
      const chunk = this.chunks[ci] as IndexEntry[];
      for (; pos < chunk.length; pos++) {
        if (this.compareAt(ci, pos, to) > 0) return;
        yield chunk[pos] as IndexEntry;
      }
    }
  }
}
