import { ObjectId, type Document } from 'bson';
import { Aggregator } from 'mingo/aggregator';
import { update as mingoUpdate } from 'mingo/updater';
import { deepClone, isPlainObject, keyOf, renderValue } from './bson-values.js';
import { CommandError, toCommandError } from './errors.js';
import { aggregateOptions, queryOptions } from './mingo-context.js';
import { rejectUnsupported } from './query.js';
import { applySimpleUpdate } from './simple-update.js';

const UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$currentDate',
  '$push',
  '$addToSet',
  '$pop',
  '$pull',
  '$pullAll',
  '$bit',
  '$setOnInsert',
]);

export interface UpdateInput {
  u: unknown;
  arrayFilters?: Document[];
  /** The statement's query, needed by the positional `$` operator. */
  query: Document;
}

export type UpdateKind = 'operators' | 'replacement' | 'pipeline';

/**
 * Operator documents that passed the (document-independent) operator and conflict checks, so a
 * multi-update checks its update once rather than once per matched document. Command documents
 * are never changed after parsing, so the result stays valid.
 */
const validatedOps = new WeakSet<object>();

/** Classifies and validates an update document. */
export function updateKind(u: unknown): UpdateKind {
  if (Array.isArray(u)) return 'pipeline';
  if (!isPlainObject(u)) throw new CommandError(14, 'Update argument must be either an object or an array');
  const keys = Object.keys(u);
  if (keys.length > 0 && keys.every((k) => k.startsWith('$'))) return 'operators';
  const firstDollar = keys.find((k) => k.startsWith('$'));
  if (firstDollar && keys.some((k) => !k.startsWith('$'))) {
    if (keys[0]?.startsWith('$'))
      throw new CommandError(
        9,
        `Unknown modifier: ${firstDollar}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    throw new CommandError(
      52,
      `The dollar ($) prefixed field '${firstDollar}' in '${firstDollar}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
    );
  }
  return keys.length === 0 ? 'replacement' : 'replacement';
}

function targetPaths(ops: Document, includeSetOnInsert: boolean): string[] {
  const paths: string[] = [];
  for (const [op, fields] of Object.entries(ops)) {
    if (op === '$setOnInsert' && !includeSetOnInsert) continue;
    if (!isPlainObject(fields))
      throw new CommandError(
        9,
        `Modifiers operate on fields but we found type ${Array.isArray(fields) ? 'array' : typeof fields} instead. For example: {$mod: {<field>: ...}} not {${op}: ${renderValue(fields)}}`,
      );
    for (const [path, v] of Object.entries(fields)) {
      paths.push(path);
      if (op === '$rename' && typeof v === 'string') paths.push(v);
    }
  }
  return paths;
}

/** 40 ConflictingUpdateOperators when one path is a prefix of (or equal to) another. */
function checkConflicts(paths: string[]): void {
  const norm = paths.map((p) =>
    p
      .split('.')
      .filter((s) => !s.startsWith('$'))
      .join('.'),
  );
  for (let i = 0; i < norm.length; i++) {
    for (let j = i + 1; j < norm.length; j++) {
      const a = norm[i] as string;
      const b = norm[j] as string;
      if (a === b || b.startsWith(`${a}.`) || a.startsWith(`${b}.`)) {
        throw new CommandError(
          40,
          `Updating the path '${paths[j] ?? b}' would create a conflict at '${paths[i] ?? a}'`,
        );
      }
    }
  }
}

function assertSameId(before: Document, after: Document): void {
  if (before._id !== after._id && keyOf(before._id) !== keyOf(after._id)) {
    throw new CommandError(66, `Performing an update on the path '_id' would modify the immutable field '_id'`);
  }
}

/** Moves `_id` to the front, as mongod stores it. */
export function idFirst(doc: Document): Document {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

/**
 * Applies an update to a copy of `doc` and returns the new version plus whether it changed.
 * The stored document is never touched (copy-on-write).
 */
export function applyUpdate(doc: Document, input: UpdateInput, isInsert: boolean): { doc: Document; changed: boolean } {
  const kind = updateKind(input.u);
  if (kind === 'replacement') {
    const repl = input.u as Document;
    if (repl._id !== undefined && doc._id !== undefined && keyOf(repl._id) !== keyOf(doc._id)) {
      throw new CommandError(
        66,
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${renderValue(repl._id)}`,
      );
    }
    const next = idFirst({ ...(doc._id === undefined ? {} : { _id: doc._id }), ...deepClone(repl) });
    return { doc: next, changed: keyOf(next) !== keyOf(doc) };
  }
  if (kind === 'pipeline') {
    rejectUnsupported(input.u);
    let out: Document | undefined;
    try {
      out = new Aggregator(input.u as Document[], aggregateOptions()).run<Document>([doc])[0];
    } catch (err) {
      throw toCommandError(err);
    }
    if (!out) throw new CommandError(2, 'pipeline update produced no document');
    if (!isInsert) assertSameId(doc, out);
    const next = idFirst(out);
    return { doc: next, changed: keyOf(next) !== keyOf(doc) };
  }
  const ops = input.u as Document;
  if (isInsert || !validatedOps.has(ops)) {
    for (const op of Object.keys(ops)) {
      if (!UPDATE_OPERATORS.has(op))
        throw new CommandError(
          9,
          `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
        );
    }
    checkConflicts(targetPaths(ops, isInsert));
    if (!isInsert) validatedOps.add(ops);
  }
  // An upsert's insert is the same fast path with `$setOnInsert` as a `$set` (conflicts were checked above).
  const simple = applySimpleUpdate(doc, isInsert ? insertOps(ops) : ops);
  if (simple) {
    assertSameId(doc, simple.doc);
    return simple;
  }
  const modifier: Document = {};
  for (const [op, fields] of Object.entries(ops)) {
    if (op === '$setOnInsert') continue;
    if (Object.keys(fields as Document).length > 0) modifier[op] = fields;
  }
  // mingo knows no $setOnInsert: on insert it becomes part of $set.
  if (isInsert && isPlainObject(ops.$setOnInsert))
    modifier.$set = { ...(modifier.$set as Document | undefined), ...ops.$setOnInsert };
  const next = deepClone(doc);
  let changedPaths: string[] = [];
  if (Object.keys(modifier).length > 0) {
    try {
      changedPaths = mingoUpdate(next, modifier, input.arrayFilters, isInsert ? undefined : input.query, {
        cloneMode: 'deep',
        queryOptions: queryOptions(),
      });
    } catch (err) {
      throw toCommandError(err);
    }
  }
  if (!isInsert) assertSameId(doc, next);
  return { doc: isInsert ? idFirst(next) : next, changed: changedPaths.length > 0 };
}

/** The operators an insert applies: `$setOnInsert` joins `$set`. */
function insertOps(ops: Document): Document {
  if (!isPlainObject(ops.$setOnInsert)) return ops;
  const { $setOnInsert, ...rest } = ops;
  return { ...rest, $set: { ...(isPlainObject(rest.$set) ? rest.$set : {}), ...$setOnInsert } };
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Document = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i] as string;
    if (!isPlainObject(cur[p])) cur[p] = {};
    cur = cur[p] as Document;
  }
  cur[parts[parts.length - 1] as string] = deepClone(value);
}

function seedInto(seed: Document, query: Document): void {
  for (const [k, v] of Object.entries(query)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) seedInto(seed, sub);
      continue;
    }
    if (k.startsWith('$')) continue;
    if (isPlainObject(v) && Object.keys(v).some((op) => op.startsWith('$'))) {
      if ('$eq' in v) setPath(seed, k, v.$eq);
      continue;
    }
    setPath(seed, k, v);
  }
}

/**
 * The document an upsert inserts: the query's equality fields (or, for a replacement,
 * only its `_id`) with the update applied and `$setOnInsert` honoured.
 */
export function buildUpsert(input: UpdateInput): Document {
  const kind = updateKind(input.u);
  const seed: Document = {};
  seedInto(seed, input.query);
  if (kind === 'replacement') {
    const repl = input.u as Document;
    const id = repl._id ?? seed._id ?? new ObjectId();
    return idFirst({ _id: id, ...deepClone(repl) });
  }
  const { doc } = applyUpdate(seed, input, true);
  return doc._id === undefined ? { _id: new ObjectId(), ...doc } : idFirst(doc);
}
