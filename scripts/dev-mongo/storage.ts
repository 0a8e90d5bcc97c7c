import { Collection } from './collection.js';
import { CommandError } from './errors.js';
import { Journal, type CollectionOptions } from './journal.js';

/** Checks a collection name the way mongod does for the common cases. */
export function validateCollectionName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new CommandError(73, `Invalid namespace specified: ${String(name)}`);
  if (name.includes('$') || name.includes('\0')) throw new CommandError(73, `Invalid collection name: ${name}`);
  return name;
}

/** All databases and collections held in memory. */
export class Store {
  readonly journal = new Journal();
  private readonly dbs = new Map<string, Map<string, Collection>>();

  databaseNames(): string[] {
    return Array.from(this.dbs.entries())
      .filter(([, colls]) => colls.size > 0)
      .map(([name]) => name);
  }

  collections(db: string): Collection[] {
    return Array.from(this.dbs.get(db)?.values() ?? []);
  }

  allCollections(): Collection[] {
    return Array.from(this.dbs.values()).flatMap((m) => Array.from(m.values()));
  }

  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Creates the collection; 48 NamespaceExists when it exists. */
  create(db: string, name: string, options: CollectionOptions = {}): Collection {
    validateCollectionName(name);
    let colls = this.dbs.get(db);
    if (!colls) {
      colls = new Map();
      this.dbs.set(db, colls);
    }
    if (colls.has(name)) throw new CommandError(48, `Collection ${db}.${name} already exists.`);
    const coll = new Collection(db, name, options, this.journal);
    colls.set(name, coll);
    this.journal.record(() => {
      if (this.dbs.get(db)?.get(name) === coll) this.dbs.get(db)?.delete(name);
    });
    return coll;
  }

  /** Implicit creation on first write, as mongod does. */
  ensure(db: string, name: string): Collection {
    return this.get(db, name) ?? this.create(db, name);
  }

  /** A collection not yet visible, filled and then published with `put` (used by `$out`). */
  detached(db: string, name: string, options: CollectionOptions): Collection {
    return new Collection(db, name, options, new Journal());
  }

  /** Publishes a collection, replacing any existing one of the same name. */
  put(coll: Collection): void {
    let colls = this.dbs.get(coll.db);
    if (!colls) {
      colls = new Map();
      this.dbs.set(coll.db, colls);
    }
    colls.set(coll.name, coll);
  }

  drop(db: string, name: string): Collection | undefined {
    const coll = this.get(db, name);
    if (coll) this.dbs.get(db)?.delete(name);
    return coll;
  }

  dropDatabase(db: string): void {
    this.dbs.delete(db);
  }

  reset(): void {
    this.dbs.clear();
  }
}
