import { ObjectId, type Document } from 'bson';
import { Context, ProcessingMode, evalExpr } from 'mingo/core';
import * as accumulatorOps from 'mingo/operators/accumulator';
import * as expressionOps from 'mingo/operators/expression';
import * as pipelineOps from 'mingo/operators/pipeline';
import * as projectionOps from 'mingo/operators/projection';
import * as queryOps from 'mingo/operators/query';
import * as windowOps from 'mingo/operators/window';
import { Lazy, type Iterator } from 'mingo/lazy';
import type { Options } from 'mingo/types';
import { bsonTypeName, typeMatches } from './bson-types.js';
import { compareValues, isPlainObject, typeRank } from './bson-values.js';
import { sortDocuments } from './sort.js';

type Ops = Parameters<typeof Context.init>[0];

/** Query `$type` that knows BSON classes (mingo's does not). */
function queryType(selector: string, value: unknown): (obj: Document) => boolean {
  const wanted = Array.isArray(value) ? value : [value];
  return (obj: Document) => {
    const values = rawPathValues(obj, selector);
    return values.some((v) =>
      wanted.some((w) => typeMatches(v, w) || (Array.isArray(v) && v.some((el) => typeMatches(el, w)))),
    );
  };
}

function rawPathValues(doc: unknown, path: string): unknown[] {
  let current: unknown[] = [doc];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const v of current) {
      if (Array.isArray(v)) {
        if (/^\d+$/.test(part)) next.push(v[Number(part)]);
        else for (const el of v) if (isPlainObject(el) && part in el) next.push(el[part]);
      } else if (isPlainObject(v) && part in v) next.push(v[part]);
    }
    current = next;
  }
  return current.filter((v) => v !== undefined);
}

/** `$bucket` with MongoDB's [lower, upper) boundaries and no empty buckets (mingo puts a value equal to a boundary in the previous bucket). */
function bucketStage(coll: Iterator, expr: Document, options: Options): Iterator {
  return coll.transform((docs: Document[]) => {
    const bounds = (expr.boundaries as unknown[]).slice();
    const output = (expr.output ?? { count: { $sum: 1 } }) as Document;
    const groups = new Map<number, Document[]>();
    for (const doc of docs) {
      const key = evalExpr(doc, expr.groupBy, options);
      let slot = -1;
      for (let i = 0; i < bounds.length - 1; i++) {
        if (
          compareValues(key, bounds[i]) >= 0 &&
          compareValues(key, bounds[i + 1]) < 0 &&
          typeRank(key) === typeRank(bounds[i])
        )
          slot = i;
      }
      if (slot < 0 && expr.default === undefined)
        throw new Error('$bucket could not find a matching branch for an input, and no default was specified.');
      const list = groups.get(slot) ?? [];
      list.push(doc);
      groups.set(slot, list);
    }
    const out: Document[] = [];
    for (let i = -1; i < bounds.length - 1; i++) {
      const list = groups.get(i);
      if (!list) continue;
      out.push({ _id: i < 0 ? expr.default : bounds[i], ...(evalExpr(list, output, options) as Document) });
    }
    const fallback = out[0]?._id === expr.default && groups.has(-1) ? out.shift() : undefined;
    if (fallback) out.push(fallback);
    return Lazy(out);
  });
}

const overrides: Ops = {
  query: { $type: queryType as never },
  expression: {
    $type: ((obj: unknown, expr: unknown, options: Options) => {
      const v = evalExpr(obj, expr, options);
      return v === undefined ? 'missing' : bsonTypeName(v);
    }) as never,
    $toDate: ((obj: unknown, expr: unknown, options: Options) => {
      const v = evalExpr(obj, expr, options);
      if (v instanceof ObjectId) return v.getTimestamp();
      return (expressionOps.$toDate as (o: unknown, e: unknown, opt: Options) => unknown)(obj, expr, options);
    }) as never,
    $toObjectId: ((obj: unknown, expr: unknown, options: Options) => {
      const v = evalExpr(obj, expr, options);
      if (v === null || v === undefined) return null;
      if (v instanceof ObjectId) return v;
      return new ObjectId(String(v));
    }) as never,
  },
  pipeline: {
    // BSON cross-type order and max-element descending sort (mingo's differ).
    $bucket: bucketStage as never,
    $sort: ((coll: Iterator, spec: Document) =>
      coll.transform((docs: Document[]) => Lazy(sortDocuments(docs, spec)))) as never,
  },
};

const base = Context.init({
  accumulator: accumulatorOps as never,
  expression: expressionOps as never,
  pipeline: pipelineOps as never,
  projection: projectionOps as never,
  query: queryOps as never,
  window: windowOps as never,
});

/** The operator context with the dev server's BSON-aware overrides taking precedence. */
export const mingoContext: Context = Context.from(Context.init(overrides), base);

/** Options for reads and writes on stored documents: keep object identity, never clone. */
export function queryOptions(extra: Partial<Options> = {}): Partial<Options> {
  return {
    context: mingoContext,
    processingMode: ProcessingMode.CLONE_OFF,
    idKey: '_id',
    useStrictMode: true,
    // $function/$accumulator/$where are rejected before mingo runs; mingo's own $setWindowFields needs scripts on.
    scriptEnabled: true,
    ...extra,
  };
}

/** Options for aggregation: clone inputs so stages cannot mutate stored documents (docs/dev-mongo.md). */
export function aggregateOptions(extra: Partial<Options> = {}): Partial<Options> {
  return { ...queryOptions(extra), processingMode: ProcessingMode.CLONE_INPUT };
}

/**
 * Query options compiled once into mingo's internal `ComputeOptions`, for `new Query(...)`.
 * Why: handed plain options, mingo copies every operator table of the context on each Query
 * (about a millisecond per filter on a small machine, paid per write statement and per
 * projected document); handed its own `ComputeOptions`, it only copies the per-query locals.
 * mingo does not export the class, so one is captured from an operator call. Queries never add
 * operators to their context (only the updater and some pipeline stages do, and those always get
 * plain options), so sharing it is safe.
 */
export const compiledQueryOptions: Partial<Options> = captureComputeOptions(queryOptions());

function captureComputeOptions(options: Partial<Options>): Partial<Options> {
  let captured: Partial<Options> | undefined;
  const capture = ((_obj: unknown, _expr: unknown, opts: Options) => {
    captured = opts;
    return null;
  }) as never;
  const context = Context.from(Context.init({ expression: { $devMongoCaptureOptions: capture } }), mingoContext);
  // Root undefined: evaluated expressions then bind $$ROOT to their own document.
  evalExpr(undefined, { $devMongoCaptureOptions: 1 }, { ...options, context } as Options);
  if (!captured) throw new Error('dev-mongo: could not capture mingo compute options');
  return captured;
}
