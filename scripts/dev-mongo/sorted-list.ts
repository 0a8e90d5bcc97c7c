import { compareValues } from './bson-values.js';

/** One index entry: the key tuple and the owning document's id key. */
export interface IndexEntry {
  key: unknown[];
  id: string;
}

const CHUNK = 512;

/** Tuple order; the document id breaks ties so every entry has an exact position. */
export function compareKeys(a: unknown[], b: unknown[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function compareEntries(a: IndexEntry, b: IndexEntry): number {
  const c = compareKeys(a.key, b.key);
  if (c !== 0) return c;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A sorted list split into chunks of at most CHUNK entries (a flat B-tree): insert and
 * delete cost O(log n + CHUNK), range scans start with a binary search.
 */
export class SortedList {
  private chunks: IndexEntry[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
  }

  /** Index of the first chunk whose last entry is >= probe (or the last chunk). */
  private chunkFor(probe: (e: IndexEntry) => number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const chunk = this.chunks[mid] as IndexEntry[];
      if (probe(chunk[chunk.length - 1] as IndexEntry) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound(chunk: IndexEntry[], probe: (e: IndexEntry) => number): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (probe(chunk[mid] as IndexEntry) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(entry: IndexEntry): void {
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push([entry]);
      return;
    }
    const probe = (e: IndexEntry): number => compareEntries(e, entry);
    const ci = this.chunkFor(probe);
    const chunk = this.chunks[ci] as IndexEntry[];
    chunk.splice(SortedList.lowerBound(chunk, probe), 0, entry);
    if (chunk.length > CHUNK * 2) this.chunks.splice(ci, 1, chunk.slice(0, CHUNK), chunk.slice(CHUNK));
  }

  remove(entry: IndexEntry): boolean {
    if (this.chunks.length === 0) return false;
    const probe = (e: IndexEntry): number => compareEntries(e, entry);
    const ci = this.chunkFor(probe);
    const chunk = this.chunks[ci] as IndexEntry[];
    const pos = SortedList.lowerBound(chunk, probe);
    const found = chunk[pos];
    if (!found || compareEntries(found, entry) !== 0) return false;
    chunk.splice(pos, 1);
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    this.count--;
    return true;
  }

  /** Entries with lo <= key <= hi (tuple order; bounds may use MIN_BOUND/MAX_BOUND). */
  *range(lo: unknown[], hi: unknown[]): Generator<IndexEntry> {
    if (this.chunks.length === 0) return;
    const probe = (e: IndexEntry): number => compareKeys(e.key, lo);
    let ci = this.chunkFor(probe);
    let pos = SortedList.lowerBound(this.chunks[ci] as IndexEntry[], probe);
    for (; ci < this.chunks.length; ci++, pos = 0) {
      const chunk = this.chunks[ci] as IndexEntry[];
      for (; pos < chunk.length; pos++) {
        const e = chunk[pos] as IndexEntry;
        if (compareKeys(e.key, hi) > 0) return;
        yield e;
      }
    }
  }
}
