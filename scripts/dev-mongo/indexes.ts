import type { Document } from 'bson';
import { Query } from 'mingo/query';
import { isPlainObject, keyOf, pathValues, renderValue } from './bson-values.js';
import { CommandError } from './errors.js';
import { ASK, YES, compileFastFilter, type FastFilter } from './fast-filter.js';
import { queryOptions } from './mingo-context.js';
import { SortedList } from './sorted-list.js';

/** Index options that make two specs with the same key different indexes. */
const SIGNIFICANT_OPTIONS = [
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'collation',
  'hidden',
] as const;

/** Default index name: `a_1_b_-1`. */
export function defaultIndexName(key: Document): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}_${String(v)}`)
    .join('_');
}

/** The spec as listed by listIndexes, without generic command fields. */
export function normalizeSpec(raw: Document): Document {
  const spec: Document = { v: 2, key: raw.key, name: raw.name };
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'key' || k === 'name' || k === 'v' || k === 'background' || k === 'ns') continue;
    spec[k] = v;
  }
  return spec;
}

/** Compares the options that matter for conflicts. */
export function sameOptions(a: Document, b: Document): boolean {
  return SIGNIFICANT_OPTIONS.every(
    (k) => keyOf(a[k] === false ? undefined : a[k]) === keyOf(b[k] === false ? undefined : b[k]),
  );
}

/** A secondary index: a sorted entry list for queries and a hash map for unique checks. */
export class Index {
  readonly name: string;
  readonly key: Document;
  readonly spec: Document;
  readonly fields: string[];
  /** Each field split at dots, and the distinct top-level fields they start with. */
  private readonly paths: string[][];
  private readonly roots: string[];
  readonly unique: boolean;
  readonly sparse: boolean;
  readonly expireAfterSeconds: number | undefined;
  private readonly partial: Query | undefined;
  /** The partial expression in plain JavaScript where fast-filter.ts can decide it (mingo otherwise). */
  private readonly partialFast: FastFilter | undefined;
  readonly tree = new SortedList();
  /** Set once any indexed document holds an array on a key path; such an index cannot give sort order. */
  multikey = false;
  /** key tuple string → document id key; only for unique indexes. */
  private readonly uniqueMap = new Map<string, string>();

  constructor(spec: Document) {
    this.spec = spec;
    this.name = String(spec.name);
    this.key = spec.key as Document;
    this.fields = Object.keys(this.key);
    this.paths = this.fields.map((f) => f.split('.'));
    this.roots = Array.from(new Set(this.paths.map((p) => p[0] as string)));
    this.unique = spec.unique === true;
    this.sparse = spec.sparse === true;
    this.expireAfterSeconds = typeof spec.expireAfterSeconds === 'number' ? spec.expireAfterSeconds : undefined;
    const pfe = spec.partialFilterExpression as Document | undefined;
    this.partial = pfe ? new Query(pfe, queryOptions()) : undefined;
    this.partialFast = pfe ? compileFastFilter(pfe) : undefined;
  }

  /**
   * Usable by the planner at all: ascending/descending fields and the simple collation. A sparse
   * index qualifies too: the planner only ever bounds a field by non-null values (`indexable`), and
   * a document missing every indexed field (the only kind a sparse index leaves out) cannot match
   * such a bound, as mongod reasons. A partial index qualifies only for a filter that implies its
   * expression (`coversPartial`).
   */
  get plannable(): boolean {
    return (
      this.spec.collation === undefined &&
      this.fields.every((f) => {
        const dir = this.key[f];
        return dir === 1 || dir === -1;
      })
    );
  }

  /**
   * Whether every document `filter` matches is in this index: always for a full or sparse index;
   * for a partial one when the filter's top level (and `$and`) implies each condition of the
   * partial expression: `{f: {$exists: true}}` by any non-null equality or range bound on `f`
   * (`bounded`), `{f: v}` / `{f: {$eq: v}}` by the same single value. Anything else is not
   * recognised, and the index is then not used (a scan is always correct).
   */
  coversPartial(filter: Document, bounded: (field: string) => boolean): boolean {
    const pfe = this.spec.partialFilterExpression as Document | undefined;
    if (!pfe) return true;
    return impliedBy(pfe, filter, bounded);
  }

  /**
   * Whether two versions of a document certainly have the same keys here without computing them:
   * each indexed field's top-level value is the same object (updates share untouched values) or
   * an equal date. A partial index's filter may read other fields, so it always recomputes.
   */
  sameKeys(a: Document, b: Document): boolean {
    if (this.partial) return false;
    for (const root of this.roots) {
      const x: unknown = a[root];
      const y: unknown = b[root];
      if (x === y) continue;
      if (x instanceof Date && y instanceof Date && x.getTime() === y.getTime()) continue;
      return false;
    }
    return true;
  }

  /** Distinct key tuples for a document: the cartesian product over multikey fields. */
  keysFor(doc: Document): unknown[][] {
    if (this.partial && !this.inPartial(doc)) return [];
    const simple = this.scalarKey(doc);
    if (simple) return [simple];
    if (!this.multikey && this.fields.some((f) => touchesArray(doc, f))) this.multikey = true;
    const perField = this.fields.map((f) => pathValues(doc, f));
    if (this.sparse && perField.every((vs) => vs.length === 0)) return [];
    let tuples: unknown[][] = [[]];
    for (const values of perField) {
      const vs = values.length === 0 ? [null] : values;
      const next: unknown[][] = [];
      for (const t of tuples) for (const v of vs) next.push([...t, v === undefined ? null : v]);
      tuples = next;
    }
    if (tuples.length === 1) return tuples;
    const seen = new Set<string>();
    return tuples.filter((t) => {
      const k = keyOf(t);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }

  /** Whether a document belongs in this partial index (mingo only where the fast filter asks). */
  private inPartial(doc: Document): boolean {
    const verdict = this.partialFast ? this.partialFast(doc) : ASK;
    return verdict === ASK ? (this.partial as Query).test(doc) : verdict === YES;
  }

  /**
   * The one key tuple of a document whose indexed paths meet no array (the common case), built
   * without pathValues' per-field arrays; undefined sends the caller to the general product.
   * Missing fields are null, as in the general case; a sparse index with every field missing
   * has no key, which the general case decides.
   */
  private scalarKey(doc: Document): unknown[] | undefined {
    const key: unknown[] = [];
    let present = false;
    for (const parts of this.paths) {
      let cur: unknown = doc;
      for (const part of parts) {
        if (!isPlainObject(cur)) {
          cur = Array.isArray(cur) ? cur : undefined;
          break;
        }
        cur = cur[part];
      }
      if (Array.isArray(cur)) return undefined;
      if (cur !== undefined) present = true;
      key.push(cur === undefined ? null : cur);
    }
    return this.sparse && !present ? undefined : key;
  }

  /**
   * Throws the E11000 error when another document already holds one of the keys; `onClash` sees
   * the holder's `_id` key first (and may throw a different error, such as a write conflict).
   */
  checkUnique(ns: string, keys: unknown[][], id: string, onClash?: (holderId: string) => void): void {
    if (!this.unique) return;
    for (const t of keys) {
      const owner = this.uniqueMap.get(keyOf(t));
      if (owner === undefined || owner === id) continue;
      onClash?.(owner);
      throw duplicateKeyError(ns, this.name, this.key, t);
    }
  }

  add(keys: unknown[][], id: string): void {
    for (const key of keys) {
      this.tree.insert({ key, id });
      if (this.unique) this.uniqueMap.set(keyOf(key), id);
    }
  }

  remove(keys: unknown[][], id: string): void {
    for (const key of keys) {
      this.tree.remove({ key, id });
      if (this.unique && this.uniqueMap.get(keyOf(key)) === id) this.uniqueMap.delete(keyOf(key));
    }
  }

  clear(): void {
    this.multikey = false;
    this.tree.clear();
    this.uniqueMap.clear();
  }
}

/** The equality values a filter's top level (and `$and` members) pins `field` to: a value or `$eq`. */
function pinnedValues(filter: Document, field: string, out: unknown[]): void {
  for (const [k, cond] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(cond)) {
      for (const sub of cond) if (isPlainObject(sub)) pinnedValues(sub, field, out);
    } else if (k === field) {
      if (!isPlainObject(cond) || !Object.keys(cond).some((op) => op.startsWith('$'))) out.push(cond);
      else if ('$eq' in cond) out.push(cond.$eq);
    }
  }
}

/** Whether `filter` implies every condition of a partial filter expression (see `Index.coversPartial`). */
function impliedBy(pfe: Document, filter: Document, bounded: (field: string) => boolean): boolean {
  for (const [field, cond] of Object.entries(pfe)) {
    if (field === '$and' && Array.isArray(cond)) {
      if (!cond.every((sub) => isPlainObject(sub) && impliedBy(sub, filter, bounded))) return false;
      continue;
    }
    if (field.startsWith('$')) return false;
    if (isPlainObject(cond) && Object.keys(cond).some((op) => op.startsWith('$'))) {
      const ops = Object.keys(cond);
      if (ops.length === 1 && ops[0] === '$exists' && cond.$exists === true && bounded(field)) continue;
      if (!(ops.length === 1 && ops[0] === '$eq')) return false;
    }
    const wanted = isPlainObject(cond) && '$eq' in cond ? cond.$eq : cond;
    if (wanted === null || wanted === undefined || Array.isArray(wanted) || isPlainObject(wanted)) return false;
    const pinned: unknown[] = [];
    pinnedValues(filter, field, pinned);
    if (!pinned.some((v) => !Array.isArray(v) && keyOf(v) === keyOf(wanted))) return false;
  }
  return true;
}

/** Whether walking `path` through `doc` meets an array (the document makes the index multikey). */
function touchesArray(doc: unknown, path: string): boolean {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(cur)) return true;
    if (!isPlainObject(cur)) return false;
    cur = cur[part];
  }
  return Array.isArray(cur);
}

/**
 * The MongoDB duplicate-key error: code 11000, keyPattern, keyValue and
 * `E11000 duplicate key error collection: <ns> index: <name> dup key: { ... }` (docs/dev-mongo.md).
 */
export function duplicateKeyError(ns: string, indexName: string, keyPattern: Document, tuple: unknown[]): CommandError {
  const keyValue: Document = {};
  const fields = Object.keys(keyPattern);
  fields.forEach((f, i) => {
    keyValue[f] = tuple[i] ?? null;
  });
  const rendered = fields.map((f, i) => `${f}: ${renderValue(tuple[i])}`).join(', ');
  return new CommandError(
    11000,
    `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: { ${rendered} }`,
    { keyPattern, keyValue },
  );
}
