import { ObjectId, UUID, type Document } from 'bson';
import { keyOf } from './bson-values.js';
import { CommandError, WriteConflict } from './errors.js';
import { Index, duplicateKeyError } from './indexes.js';
import type { CollectionOptions, Journal } from './journal.js';

/**
 * Documents of one collection in natural (insertion) order, keyed by their `_id`.
 * Stored documents are immutable: updates store a new object, so cursors and undo
 * logs can hold references safely.
 */
export class Collection {
  readonly docs = new Map<string, Document>();
  readonly indexes: Index[] = [];
  readonly uuid = new UUID();
  /** Documents inserted by a transaction not yet committed, by `_id` key → the transaction's key. */
  private readonly uncommitted = new Map<string, string>();

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: CollectionOptions,
    private readonly journal: Journal,
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  findIndex(name: string): Index | undefined {
    return this.indexes.find((i) => i.name === name);
  }

  /** Inserts after checking `_id_` and every unique index; nothing changes on failure. */
  insert(doc: Document): void {
    const id = keyOf(doc._id);
    if (this.docs.has(id)) {
      this.clashWith(id);
      throw duplicateKeyError(this.ns, '_id_', { _id: 1 }, [doc._id]);
    }
    const keys = this.indexes.map((ix) => ix.keysFor(doc));
    this.indexes.forEach((ix, i) => ix.checkUnique(this.ns, keys[i] ?? [], id, this.clash));
    this.indexes.forEach((ix, i) => ix.add(keys[i] ?? [], id));
    this.docs.set(id, doc);
    this.journal.record(() => this.rawRemove(doc));
    const txn = this.journal.current ? this.journal.txn : null;
    if (txn !== null) {
      this.uncommitted.set(id, txn);
      this.journal.atEnd(() => {
        if (this.uncommitted.get(id) === txn) this.uncommitted.delete(id);
      });
    }
  }

  /**
   * A write collides with the document `holderId`: when another open transaction inserted it, the
   * answer is a write conflict rather than a duplicate key, as in MongoDB (docs/dev-mongo.md,
   * "Transactions"); the dispatcher turns it into an abort (inside a transaction) or a wait.
   */
  private clashWith(holderId: string): void {
    const holder = this.uncommitted.get(holderId);
    if (holder !== undefined && holder !== this.journal.txn) throw new WriteConflict(holder);
  }

  private readonly clash = (holderId: string): void => this.clashWith(holderId);

  /**
   * Whether the running command may see `doc`: a document another transaction inserted and has
   * not committed is invisible, as a real server's snapshot isolation keeps it (docs/dev-mongo.md).
   */
  visible(doc: Document): boolean {
    if (this.uncommitted.size === 0) return true;
    const owner = this.uncommitted.get(keyOf(doc._id));
    return owner === undefined || owner === this.journal.txn;
  }

  /** Every document the running command may see, in natural order. */
  visibleDocs(): Iterable<Document> {
    return this.uncommitted.size === 0 ? this.docs.values() : [...this.docs.values()].filter((d) => this.visible(d));
  }

  /** How many documents the running command may see. */
  visibleCount(): number {
    return this.uncommitted.size === 0 ? this.docs.size : [...this.visibleDocs()].length;
  }

  /** Replaces a stored document with a new version of it (same `_id`). */
  replace(old: Document, next: Document): void {
    const id = keyOf(old._id);
    if (next._id !== old._id && keyOf(next._id) !== id)
      throw new CommandError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
    // Most updates leave most indexed fields alone: those indexes need neither keys nor tree work.
    const touched = this.indexes.filter((ix) => !ix.sameKeys(old, next));
    const oldKeys = touched.map((ix) => ix.keysFor(old));
    const newKeys = touched.map((ix) => ix.keysFor(next));
    touched.forEach((ix, i) => ix.checkUnique(this.ns, newKeys[i] ?? [], id, this.clash));
    touched.forEach((ix, i) => {
      if (keyOf(oldKeys[i]) === keyOf(newKeys[i])) return;
      ix.remove(oldKeys[i] ?? [], id);
      ix.add(newKeys[i] ?? [], id);
    });
    this.docs.set(id, next);
    this.journal.record(() => this.rawReplace(next, old));
  }

  remove(doc: Document): void {
    this.rawRemove(doc);
    this.journal.record(() => this.rawInsert(doc));
  }

  /** Removes every document (used by `$out`), journaled as individual deletes. */
  clear(): void {
    for (const doc of Array.from(this.docs.values())) this.remove(doc);
  }

  /** Builds a new index over existing documents; throws 11000 without keeping it if duplicates exist. */
  addIndex(index: Index): void {
    for (const [id, doc] of this.docs) {
      const keys = index.keysFor(doc);
      try {
        index.checkUnique(this.ns, keys, id);
      } catch (err) {
        index.clear();
        throw err;
      }
      index.add(keys, id);
    }
    this.indexes.push(index);
  }

  dropIndex(name: string): void {
    const i = this.indexes.findIndex((ix) => ix.name === name);
    if (i >= 0) this.indexes.splice(i, 1);
  }

  private rawInsert(doc: Document): void {
    const id = keyOf(doc._id);
    this.indexes.forEach((ix) => ix.add(ix.keysFor(doc), id));
    this.docs.set(id, doc);
  }

  private rawRemove(doc: Document): void {
    const id = keyOf(doc._id);
    const stored = this.docs.get(id);
    if (!stored) return;
    this.indexes.forEach((ix) => ix.remove(ix.keysFor(stored), id));
    this.docs.delete(id);
    this.uncommitted.delete(id);
  }

  private rawReplace(current: Document, restored: Document): void {
    const id = keyOf(current._id);
    this.indexes.forEach((ix) => {
      ix.remove(ix.keysFor(current), id);
      ix.add(ix.keysFor(restored), id);
    });
    this.docs.set(id, restored);
  }
}

/** A new document with a generated `_id` placed first, as mongod does. */
export function withId(doc: Document): Document {
  if (doc._id !== undefined) return doc;
  return { _id: new ObjectId(), ...doc };
}
