import type { Document } from 'bson';
import { isPlainObject, keyOf, pathValues } from '../bson-values.js';
import { CommandError } from '../errors.js';
import { makeProjector } from '../projection.js';
import { findDocuments, matchDocuments, rejectCollation } from '../query.js';
import { sortDocuments } from '../sort.js';
import { cursorId } from '../wire.js';
import { collectionArg, type CommandHandler } from './context.js';

function nonNegative(cmd: Document, field: string): number {
  const v: unknown = cmd[field];
  if (v === undefined || v === null) return 0;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CommandError(14, `BSON field 'find.${field}' is the wrong type`);
  if (n < 0 && field !== 'limit')
    throw new CommandError(51024, `BSON field '${field}' value must be >= 0, actual value '${n}'`);
  return n;
}

const find: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'find');
  rejectCollation(cmd.collation);
  if (cmd.tailable === true)
    throw new CommandError(
      238,
      'tailable cursors are not supported by the dev-mongo development server (it is not MongoDB)',
    );
  const coll = ctx.store.get(ctx.db, name);
  const skip = nonNegative(cmd, 'skip');
  let limit = nonNegative(cmd, 'limit');
  let singleBatch = cmd.singleBatch === true;
  if (limit < 0) {
    limit = -limit;
    singleBatch = true;
  }
  const hasSort = isPlainObject(cmd.sort) && Object.keys(cmd.sort).length > 0;
  const project = makeProjector(cmd.projection, cmd.filter);
  const docs = findDocuments(coll, cmd.filter, { sort: hasSort ? cmd.sort : undefined, skip, limit });
  const batchSize =
    cmd.batchSize === undefined ? (singleBatch && limit > 0 ? limit : undefined) : nonNegative(cmd, 'batchSize');
  return ctx.cursors.open(`${ctx.db}.${name}`, docs, { batchSize, singleBatch, project });
};

const getMore: CommandHandler = (cmd, ctx) => {
  const id = Number(cmd.getMore);
  const batchSize = cmd.batchSize === undefined ? 0 : Number(cmd.batchSize);
  const ns = ctx.cursors.nsOf(id);
  if (
    ns !== undefined &&
    typeof cmd.collection === 'string' &&
    ns !== `${ctx.db}.${cmd.collection}` &&
    !ns.includes('.$cmd.')
  ) {
    throw new CommandError(
      13,
      `Requested getMore on namespace '${ctx.db}.${cmd.collection}', but cursor belongs to a different namespace ${ns}`,
    );
  }
  const next = ctx.cursors.more(id, batchSize);
  if (!next) throw new CommandError(43, `cursor id ${id} not found`);
  return { cursor: { nextBatch: next.batch, id: cursorId(next.id), ns: next.ns }, ok: 1 };
};

const killCursors: CommandHandler = (cmd, ctx) => {
  const ids = Array.isArray(cmd.cursors) ? (cmd.cursors as unknown[]) : [];
  const killed: unknown[] = [];
  const notFound: unknown[] = [];
  for (const raw of ids) {
    const id = Number(raw);
    (ctx.cursors.kill(id) ? killed : notFound).push(cursorId(id));
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

const count: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'count');
  rejectCollation(cmd.collation);
  const coll = ctx.store.get(ctx.db, name);
  const skip = nonNegative(cmd, 'skip');
  const limit = Math.abs(nonNegative(cmd, 'limit'));
  const query = (cmd.query ?? {}) as Document;
  let n = Object.keys(query).length === 0 ? (coll?.visibleCount() ?? 0) : matchDocuments(coll, query).length;
  n = Math.max(0, n - skip);
  if (limit > 0) n = Math.min(n, limit);
  return { n, ok: 1 };
};

const distinct: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'distinct');
  rejectCollation(cmd.collation);
  if (typeof cmd.key !== 'string') throw new CommandError(14, "BSON field 'distinct.key' is the wrong type");
  const key = cmd.key;
  const docs = matchDocuments(ctx.store.get(ctx.db, name), cmd.query);
  const seen = new Set<string>();
  const values: unknown[] = [];
  for (const doc of docs) {
    for (const v of pathValues(doc, key)) {
      if (v === undefined) continue;
      const k = keyOf(v);
      if (seen.has(k)) continue;
      seen.add(k);
      values.push(v);
    }
  }
  return {
    values: sortDocuments(
      values.map((v) => ({ v })),
      { v: 1 },
    ).map((d) => d.v),
    ok: 1,
  };
};

/** `find`, `getMore`, `killCursors`, `count`, `distinct`. */
export const readCommands: Record<string, CommandHandler> = { find, getMore, killCursors, count, distinct };
