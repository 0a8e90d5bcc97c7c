import type { Document } from 'bson';
import { MAX_BOUND, MIN_BOUND, isPlainObject, keyOf, typeRank } from './bson-values.js';
import type { Collection } from './collection.js';
import type { Index } from './indexes.js';

/** Largest number of equality combinations ($in cartesian product) turned into index ranges. */
const MAX_RANGES = 1000;

interface FieldBounds {
  eq?: unknown[];
  lo?: unknown;
  hi?: unknown;
}

/** Values an index can look up exactly: scalars other than null and regexes. */
function indexable(v: unknown): boolean {
  const r = typeRank(v);
  return r === 3 || r === 4 || r === 7 || r === 8 || r === 9 || r === 10 || r === 11;
}

/** Per-field bounds from a filter's top level and its `$and` members (a conjunction). */
function collectBounds(filter: Document, out: Map<string, FieldBounds>): void {
  for (const [path, cond] of Object.entries(filter)) {
    if (path === '$and' && Array.isArray(cond)) {
      for (const sub of cond) if (isPlainObject(sub)) collectBounds(sub, out);
      continue;
    }
    if (path.startsWith('$')) continue;
    const b = out.get(path) ?? {};
    if (isPlainObject(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
      for (const [op, v] of Object.entries(cond)) {
        if (op === '$eq' && indexable(v)) b.eq = [v];
        else if (op === '$in' && Array.isArray(v) && v.length > 0 && v.every(indexable)) b.eq = v;
        else if ((op === '$gt' || op === '$gte') && indexable(v)) b.lo = v;
        else if ((op === '$lt' || op === '$lte') && indexable(v)) b.hi = v;
      }
    } else if (indexable(cond)) {
      b.eq = [cond];
    }
    out.set(path, b);
  }
}

interface Plan {
  index: Index;
  ranges: Array<[unknown[], unknown[]]>;
  score: number;
  /** Index fields bound by equality (`$eq` / `$in` values), in index order. */
  eqFields: string[];
}

/**
 * A unique index with every field bound by equality finds at most one document per value: on a
 * tie it beats an index that shares only a leading field (`{corpId, outcomeId}` must take the
 * unique `outcomeId` index, not walk the corp's range of `{corpId, occurredAt}`), as mongod's
 * plan ranking would.
 */
const isPoint = (plan: Plan) => plan.index.unique && plan.eqFields.length === plan.index.fields.length;

function planFor(index: Index, bounds: Map<string, FieldBounds>): Plan | undefined {
  let combos: unknown[][] = [[]];
  let score = 0;
  let rangeField: FieldBounds | undefined;
  let used = 0;
  const eqFields: string[] = [];
  for (const field of index.fields) {
    const b = bounds.get(field);
    if (b?.eq && combos.length * b.eq.length <= MAX_RANGES) {
      combos = combos.flatMap((c) => (b.eq ?? []).map((v) => [...c, v]));
      score += 2;
      used++;
      eqFields.push(field);
      continue;
    }
    if (b && (b.lo !== undefined || b.hi !== undefined)) {
      rangeField = b;
      score += 1;
    }
    break;
  }
  if (score === 0) return undefined;
  const pad = index.fields.length - used - (rangeField ? 1 : 0);
  const ranges = combos.map((c): [unknown[], unknown[]] => {
    const lo = [...c];
    const hi = [...c];
    if (rangeField) {
      lo.push(rangeField.lo ?? MIN_BOUND);
      hi.push(rangeField.hi ?? MAX_BOUND);
    }
    for (let i = 0; i < pad; i++) {
      lo.push(MIN_BOUND);
      hi.push(MAX_BOUND);
    }
    return [lo, hi];
  });
  return { index, ranges, score, eqFields };
}

/** How a filter's candidates are produced: lazily, and in `sort` order when `sorted`. */
export interface CandidateScan {
  docs: Iterable<Document>;
  /** True when the index walk already yields the requested sort order (no in-memory sort). */
  sorted: boolean;
  /** The candidates are exactly the documents the top-level `_id` condition selects (nothing else constrains `_id`). */
  idExact?: boolean;
  /**
   * Top-level fields whose whole condition (a value, `$eq` or `$in` of indexable values) the index
   * walk already guarantees: each candidate's one key holds one of the listed values, so the
   * caller need not test them again (a 1,000-value `$in` tested per candidate made a batch quadratic).
   */
  exactFields?: string[];
}

/** A top-level condition that is only a value, `$eq` or `$in` of indexable values (what an exact lookup resolves). */
function isExactCondition(cond: unknown): boolean {
  if (!isPlainObject(cond)) return indexable(cond);
  const ops = Object.keys(cond);
  if (ops.length !== 1) return false;
  if (ops[0] === '$eq') return indexable(cond.$eq);
  return ops[0] === '$in' && Array.isArray(cond.$in) && cond.$in.length > 0 && cond.$in.every(indexable);
}

function* idLookups(coll: Collection, ids: unknown[]): Generator<Document> {
  const seen = new Set<string>();
  for (const v of ids) {
    const k = keyOf(v);
    const doc = coll.docs.get(k);
    if (doc && !seen.has(k)) {
      seen.add(k);
      yield doc;
    }
  }
}

function* indexWalk(coll: Collection, plan: Plan, dedupe: boolean): Generator<Document> {
  const seen = dedupe ? new Set<string>() : undefined;
  for (const [lo, hi] of plan.ranges) {
    for (const e of plan.index.tree.range(lo, hi)) {
      if (seen) {
        if (seen.has(e.id)) continue;
        seen.add(e.id);
      }
      const doc = coll.docs.get(e.id);
      if (doc) yield doc;
    }
  }
}

/**
 * Whether walking one index range yields documents in `sort` order. Sort fields bound by
 * equality are constant and skipped; the rest must continue the index's fields in order, all
 * ascending (the tree holds raw values ascending whatever the key direction). A multikey index
 * is never used for order: an array's sort key (its min element) need not be its first entry.
 * Ties keep index order, which is what the stable in-memory sort of index-ordered candidates gave.
 */
function walkIsSorted(
  plan: Plan,
  bounds: Map<string, FieldBounds>,
  sort: ReadonlyArray<readonly [string, number]>,
): boolean {
  if (plan.ranges.length !== 1 || plan.index.multikey) return false;
  const fields = plan.index.fields;
  let next = fields.findIndex((f) => bounds.get(f)?.eq?.length !== 1);
  if (next < 0) next = fields.length;
  for (const [path, dir] of sort) {
    if (fields.indexOf(path) >= 0 && fields.indexOf(path) < next && bounds.get(path)?.eq?.length === 1) continue;
    if (dir !== 1 || fields[next] !== path) return false;
    next++;
  }
  return true;
}

/**
 * Candidate documents for a filter (a superset of the matches), produced lazily so a caller with
 * a limit stops early, or undefined when no index helps and the caller must scan. `_id`
 * equality and `$in` are direct lookups. The residual filter is always applied by the caller.
 */
export function planScan(
  coll: Collection,
  filter: Document,
  sort: ReadonlyArray<readonly [string, number]> = [],
): CandidateScan | undefined {
  const bounds = new Map<string, FieldBounds>();
  collectBounds(filter, bounds);
  if (bounds.size === 0) return undefined;
  const idBounds = bounds.get('_id');
  if (idBounds?.eq)
    return {
      docs: idLookups(coll, idBounds.eq),
      sorted: false,
      idExact: '_id' in filter && !('$and' in filter) && isExactCondition(filter._id),
    };
  let best: Plan | undefined;
  const bounded = (field: string): boolean => {
    const b = bounds.get(field);
    return b !== undefined && (b.eq !== undefined || b.lo !== undefined || b.hi !== undefined);
  };
  for (const index of coll.indexes) {
    if (!index.plannable || !index.coversPartial(filter, bounded)) continue;
    const plan = planFor(index, bounds);
    if (plan && (!best || plan.score > best.score || (plan.score === best.score && isPoint(plan) && !isPoint(best))))
      best = plan;
  }
  if (!best) return undefined;
  const dedupe = best.ranges.length > 1 || best.index.multikey;
  // A multikey index holds several keys per document and `$and` may bound a field twice: test those as usual.
  const exactFields =
    best.index.multikey || '$and' in filter
      ? []
      : best.eqFields.filter((f) => !f.includes('.') && isExactCondition(filter[f]));
  return {
    docs: indexWalk(coll, best, dedupe),
    sorted: sort.length > 0 && walkIsSorted(best, bounds, sort),
    exactFields,
  };
}

/** Candidate documents for a filter, materialized (index order), or undefined when no index helps. */
export function candidates(coll: Collection, filter: Document): Document[] | undefined {
  const scan = planScan(coll, filter);
  return scan ? Array.from(scan.docs) : undefined;
}
