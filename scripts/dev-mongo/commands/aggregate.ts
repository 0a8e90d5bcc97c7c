import type { Document } from 'bson';
import { Aggregator } from 'mingo/aggregator';
import { deepClone, isPlainObject } from '../bson-values.js';
import { CommandError, notImplemented, toCommandError } from '../errors.js';
import { Index } from '../indexes.js';
import { aggregateOptions, queryOptions } from '../mingo-context.js';
import { matchDocuments, rejectCollation, rejectUnsupported } from '../query.js';
import { validateCollectionName } from '../storage.js';
import { collectionArg, type CommandContext, type CommandHandler } from './context.js';
import { prepareInsert } from './write.js';

const UNSUPPORTED_STAGES: Record<string, string> = {
  $merge: '$merge',
  $changeStream: 'change streams ($changeStream)',
  $geoNear: '$geoNear (geospatial queries)',
  $search: 'Atlas Search ($search)',
  $searchMeta: 'Atlas Search ($searchMeta)',
  $vectorSearch: 'vector search ($vectorSearch)',
  $currentOp: '$currentOp',
  $collStats: '$collStats',
  $indexStats: '$indexStats',
  $listSessions: '$listSessions',
  $planCacheStats: '$planCacheStats',
};

function stageName(stage: unknown): string {
  if (!isPlainObject(stage) || Object.keys(stage).length !== 1)
    throw new CommandError(40323, 'A pipeline stage specification object must contain exactly one field.');
  return Object.keys(stage)[0] as string;
}

/**
 * Stages that never write into the documents they are given (they filter, order, count or
 * build new group documents): a pipeline of only these runs on the stored documents themselves.
 * Why: cloning every input (CLONE_INPUT) was most of a `countDocuments` (`$match` + `$group`)
 * over a few thousand tasks, about 35 ms (found profiling `bench:peak`; docs/dev-mongo.md).
 */
const READ_ONLY_STAGES = new Set(['$match', '$sort', '$limit', '$skip', '$count', '$group', '$sortByCount']);

function readsOnly(stage: Document): boolean {
  return READ_ONLY_STAGES.has(Object.keys(stage)[0] ?? '');
}

/** Writes `$out` results through the normal insert path so unique indexes hold (docs/dev-mongo.md). */
function writeOut(ctx: CommandContext, target: unknown, docs: Document[]): void {
  const spec = isPlainObject(target) ? target : { db: ctx.db, coll: target };
  const db = typeof spec.db === 'string' ? spec.db : ctx.db;
  const name = validateCollectionName(spec.coll);
  const existing = ctx.store.get(db, name);
  const fresh = ctx.store.detached(db, name, existing?.options ?? {});
  for (const ix of existing?.indexes ?? []) fresh.addIndex(new Index(ix.spec));
  for (const doc of docs) fresh.insert(prepareInsert(doc));
  ctx.store.put(fresh);
}

const aggregate: CommandHandler = (cmd, ctx) => {
  if (typeof cmd.aggregate !== 'string') throw notImplemented('database-level aggregate');
  const name = collectionArg(cmd, 'aggregate');
  if (cmd.explain === true) throw notImplemented('explain');
  rejectCollation(cmd.collation);
  if (!Array.isArray(cmd.pipeline)) throw new CommandError(14, "'pipeline' option must be specified as an array");
  let pipeline = (cmd.pipeline as unknown[]).slice() as Document[];
  pipeline.forEach((stage, i) => {
    const op = stageName(stage);
    const feature = UNSUPPORTED_STAGES[op];
    if (feature) throw notImplemented(feature);
    if (op === '$out' && i !== pipeline.length - 1)
      throw new CommandError(40601, '$out can only be the final stage in the pipeline');
  });
  rejectUnsupported(pipeline);
  const last = pipeline[pipeline.length - 1];
  const out = last && '$out' in last ? last.$out : undefined;
  if (out !== undefined) pipeline = pipeline.slice(0, -1);
  const coll = ctx.store.get(ctx.db, name);
  // A leading $match runs through the planner, so only matching documents are cloned.
  const first = pipeline[0];
  let input: Document[];
  if (first && '$match' in first) {
    input = matchDocuments(coll, first.$match);
    pipeline = pipeline.slice(1);
  } else {
    input = coll ? Array.from(coll.visibleDocs()) : [];
  }
  const resolver = (other: string): Document[] =>
    Array.from(ctx.store.get(ctx.db, other)?.visibleDocs() ?? [], (d) => deepClone(d));
  let results: Document[];
  const extra = { collectionResolver: resolver, variables: cmd.let as Document | undefined };
  try {
    results =
      pipeline.length === 0
        ? input.slice()
        : new Aggregator(
            pipeline,
            pipeline.every(readsOnly) ? queryOptions(extra) : aggregateOptions(extra),
          ).run<Document>(input);
  } catch (err) {
    throw toCommandError(err);
  }
  if (out !== undefined) {
    writeOut(ctx, out, results);
    results = [];
  }
  const cursorOpts = (cmd.cursor ?? {}) as Document;
  const batchSize = typeof cursorOpts.batchSize === 'number' ? cursorOpts.batchSize : undefined;
  return ctx.cursors.open(`${ctx.db}.${name}`, results, { batchSize });
};

export const aggregateCommands: Record<string, CommandHandler> = { aggregate };
