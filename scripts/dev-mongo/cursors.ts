import { calculateObjectSize, type Document } from 'bson';
import { cursorId } from './wire.js';
import type { Projector } from './projection.js';

/** Replies stay under the 16 MiB document limit with room for the envelope. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;
/** Documents projected per call: one mingo cursor per chunk instead of per document. */
const PROJECT_CHUNK = 1000;
/** Idle cursors are discarded after 10 minutes, like mongod's cursorTimeoutMillis. */
const IDLE_MS = 10 * 60 * 1000;

interface CursorState {
  ns: string;
  docs: Document[];
  pos: number;
  /** Documents still allowed by a `limit` (Infinity when none). */
  remaining: number;
  project: Projector;
  lastUsed: number;
}

/** Open server-side cursors. Ids are plain numbers < 2^53 sent as Int64. */
export class CursorRegistry {
  private readonly cursors = new Map<number, CursorState>();
  private nextId = 1_000_000 + Math.floor(Math.random() * 1_000_000);

  /** Takes the next batch; the returned id is 0 when the cursor is exhausted and closed. */
  private take(id: number, state: CursorState, batchSize: number): { batch: Document[]; id: number } {
    const limit = Math.min(batchSize > 0 ? batchSize : Infinity, state.remaining);
    const raw: Document[] = [];
    let bytes = 0;
    let full = false;
    while (!full && raw.length < limit && state.pos < state.docs.length) {
      const n = Math.min(limit - raw.length, state.docs.length - state.pos, PROJECT_CHUNK);
      const projected = state.project(state.docs.slice(state.pos, state.pos + n));
      for (let i = 0; i < n; i++) {
        const doc = projected[i];
        if (doc !== undefined) {
          const size = calculateObjectSize(doc);
          if (raw.length > 0 && bytes + size > MAX_BATCH_BYTES) {
            full = true;
            break;
          }
          raw.push(doc);
          bytes += size;
        }
        state.pos++;
      }
    }
    state.remaining -= raw.length;
    state.lastUsed = Date.now();
    const done = state.pos >= state.docs.length || state.remaining <= 0;
    if (done) this.cursors.delete(id);
    return { batch: raw, id: done ? 0 : id };
  }

  /** Builds a `find`/`aggregate` style first-batch reply, registering the cursor if more remain. */
  open(
    ns: string,
    docs: Document[],
    opts: { batchSize?: number; limit?: number; singleBatch?: boolean; project?: Projector },
  ): Document {
    const id = this.nextId++;
    const state: CursorState = {
      ns,
      docs,
      pos: 0,
      remaining: opts.limit && opts.limit > 0 ? opts.limit : Infinity,
      project: opts.project ?? ((d) => d),
      lastUsed: Date.now(),
    };
    this.cursors.set(id, state);
    const batchSize = opts.batchSize ?? 101;
    const first = batchSize === 0 ? { batch: [], id: docs.length === 0 ? 0 : id } : this.take(id, state, batchSize);
    if (first.id === 0 || opts.singleBatch) this.cursors.delete(id);
    const outId = opts.singleBatch ? 0 : first.id;
    return { cursor: { firstBatch: first.batch, id: cursorId(outId), ns }, ok: 1 };
  }

  has(id: number): boolean {
    return this.cursors.has(id);
  }

  nsOf(id: number): string | undefined {
    return this.cursors.get(id)?.ns;
  }

  /** Next batch for getMore; undefined when the id is unknown. */
  more(id: number, batchSize: number): { batch: Document[]; id: number; ns: string } | undefined {
    const state = this.cursors.get(id);
    if (!state) return undefined;
    return { ...this.take(id, state, batchSize), ns: state.ns };
  }

  kill(id: number): boolean {
    return this.cursors.delete(id);
  }

  /** Drops cursors idle for longer than the timeout. */
  sweep(now = Date.now()): void {
    for (const [id, c] of this.cursors) if (now - c.lastUsed > IDLE_MS) this.cursors.delete(id);
  }

  clear(): void {
    this.cursors.clear();
  }
}
