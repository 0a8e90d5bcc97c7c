import type { Document } from 'bson';
import { deepClone, isPlainObject, keyOf } from './bson-values.js';

/** Operators the fast path applies itself; anything else goes through mingo's updater. */
const SIMPLE_OPERATORS = new Set(['$set', '$unset', '$setOnInsert', '$inc', '$push']);

/** A path of plain field names: no positional `$`, no array index, no empty segment. */
function plainPath(path: string): string[] | undefined {
  const parts = path.split('.');
  return parts.every((p) => p.length > 0 && !p.startsWith('$') && !/^\d+$/.test(p)) ? parts : undefined;
}

/** MongoDB's "same value" (1, 1.0 and Long(1) are), without building keys for strings and dates. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a instanceof Date && b instanceof Date) return Object.is(a.getTime(), b.getTime());
  return keyOf(a) === keyOf(b);
}

/**
 * The parent object of a path's last field, or null when a parent is missing, or undefined when
 * the walk meets an array or a scalar: mingo then decides (arrays fan out, scalars are errors
 * with MongoDB's exact messages).
 */
function parentOf(doc: Document, parts: string[]): Document | undefined | null {
  let cur = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const next: unknown = cur[parts[i] as string];
    if (next === undefined && !((parts[i] as string) in cur)) return null;
    if (!isPlainObject(next)) return undefined;
    cur = next;
  }
  return cur;
}

/**
 * The parent of a path's last field in the new version, copying each object on the way that
 * still belongs to the stored version (`fresh` holds the copies made for this update) and
 * creating missing ones when `create`. Null when a parent is missing and not created.
 */
function writableParent(next: Document, parts: string[], fresh: object[], create: boolean): Document | null {
  let cur = next;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i] as string;
    const child: unknown = cur[p];
    let writable: Document;
    if (isPlainObject(child)) {
      writable = fresh.includes(child) ? child : { ...child };
    } else {
      if (!create) return null;
      writable = {};
    }
    if (writable !== child) {
      fresh.push(writable);
      cur[p] = writable;
    }
    cur = writable;
  }
  return cur;
}

/** A `$push` value the fast path appends as is: not a modifier document (`$each`, `$slice` …). */
function plainPushValue(v: unknown): boolean {
  return !isPlainObject(v) || !Object.keys(v).some((k) => k.startsWith('$'));
}

/**
 * Whether the fast path may apply `op` to the stored value at a path (`present` when the field
 * exists): `$inc` needs a number (or no field), `$push` an array (or no field). Anything else
 * (a non-numeric `$inc` target, a `$push` onto a scalar, `$each` modifiers) goes to mingo, which
 * then decides exactly as before.
 */
function fastApplicable(op: string, value: unknown, current: unknown, present: boolean): boolean {
  if (op === '$inc')
    return typeof value === 'number' && (!present || (typeof current === 'number' && !Number.isNaN(current)));
  if (op === '$push') return plainPushValue(value) && (!present || Array.isArray(current));
  return true;
}

/**
 * `$set`/`$unset`/`$inc`/`$push` (a single value) on plain field paths applied without mingo's
 * updater, or undefined when the update needs mingo. Why: mingo's `update()` copies every
 * operator table of the context on each call (~1 ms per statement on a small machine), which made
 * a 500-statement bulkWrite of simple `$set`s cost over a second, and every upsert of a domain
 * event (`$inc` of its attempts) and every task history `$push` about as much (found profiling
 * `bench:leads` and `bench:peak`). Semantics follow mingo's (and MongoDB's): operators and fields
 * in the order given, equal values are no change, missing parents are created, `$unset` of a
 * missing field is no change, `$inc` of a missing field sets it, `$push` onto a missing field
 * makes a one-element array. The new version copies only the objects (and arrays) on the changed
 * paths and shares the rest with the stored one (stored documents are never changed in place, so
 * sharing is safe; a full deep copy was a large part of a 500-document `updateMany`).
 */
export function applySimpleUpdate(doc: Document, ops: Document): { doc: Document; changed: boolean } | undefined {
  const keys = Object.keys(ops);
  if (!keys.every((op) => SIMPLE_OPERATORS.has(op) && isPlainObject(ops[op]))) return undefined;
  const steps: Array<{ op: string; parts: string[]; value: unknown }> = [];
  for (const op of keys) {
    // `$setOnInsert` only acts on an insert, where the caller has already merged it into `$set`.
    if (op === '$setOnInsert') continue;
    for (const [path, value] of Object.entries(ops[op] as Document)) {
      const parts = plainPath(path);
      if (!parts) return undefined;
      steps.push({ op, parts, value });
    }
  }
  // A pre-check without mutation: bail out to mingo before building the new version.
  for (const { op, parts, value } of steps) {
    const parent = parentOf(doc, parts);
    if (parent === undefined) return undefined;
    const field = parts[parts.length - 1] as string;
    const present = parent !== null && field in parent;
    if (!fastApplicable(op, value, present ? parent[field] : undefined, present)) return undefined;
  }
  const next: Document = { ...doc };
  const fresh: object[] = [next];
  let changed = false;
  for (const { op, parts, value } of steps) {
    const field = parts[parts.length - 1] as string;
    const current = parentOf(next, parts);
    const present = current !== null && current !== undefined && field in current;
    if (op === '$unset') {
      if (!present) continue;
      const parent = writableParent(next, parts, fresh, false) as Document;
      delete parent[field];
      changed = true;
      continue;
    }
    let updated: unknown;
    if (op === '$set') {
      if (present && sameValue((current as Document)[field], value)) continue;
      updated = deepClone(value);
    } else if (op === '$inc') {
      const before = present ? ((current as Document)[field] as number) : 0;
      updated = before + (value as number);
      if (present && updated === before) continue;
    } else {
      const before = present ? ((current as Document)[field] as unknown[]) : [];
      updated = [...before, deepClone(value)];
    }
    const parent = writableParent(next, parts, fresh, true) as Document;
    parent[field] = updated;
    changed = true;
  }
  return { doc: next, changed };
}
