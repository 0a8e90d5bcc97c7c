import { calculateObjectSize, type Document } from 'bson';
import { isPlainObject } from '../bson-values.js';
import { withId, type Collection } from '../collection.js';
import { CommandError, WriteConflict, toCommandError } from '../errors.js';
import { findDocuments, matchDocuments, rejectCollation } from '../query.js';
import { applyUpdate, buildUpsert, idFirst, updateKind } from '../update.js';
import { collectionArg, type CommandHandler } from './context.js';

const MAX_DOC_BYTES = 16 * 1024 * 1024;

function statements(cmd: Document, field: string): Document[] {
  const list: unknown = cmd[field];
  if (!Array.isArray(list))
    throw new CommandError(14, `BSON field '${Object.keys(cmd)[0] ?? ''}.${field}' is missing but a required field`);
  return list as Document[];
}

/** Runs statements ordered (stop at first error) or unordered; `n` counts only successes. */
function runBatch(cmd: Document, items: Document[], run: (item: Document, index: number) => void): Document[] {
  const ordered = cmd.ordered !== false;
  const writeErrors: Document[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      run(items[i] as Document, i);
    } catch (err) {
      if (err instanceof WriteConflict) throw err; // the whole command waits or its transaction aborts
      writeErrors.push(toCommandError(err).toWriteError(i));
      if (ordered) break;
    }
  }
  return writeErrors;
}

function finish(reply: Document, writeErrors: Document[]): Document {
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  reply.ok = 1;
  return reply;
}

/** Validates a document for insertion and puts a generated `_id` first. */
export function prepareInsert(raw: unknown): Document {
  if (!isPlainObject(raw)) throw new CommandError(14, 'document to insert must be an object');
  const doc = idFirst(withId(raw));
  if (Array.isArray(doc._id)) throw new CommandError(53, `The '_id' value cannot be of type array`);
  if (doc._id instanceof RegExp) throw new CommandError(53, `The '_id' value cannot be of type regex`);
  if (calculateObjectSize(doc) > MAX_DOC_BYTES)
    throw new CommandError(
      10334,
      `object to insert too large. size in bytes: ${calculateObjectSize(doc)}, max size: ${MAX_DOC_BYTES}`,
    );
  return doc;
}

const insert: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'insert');
  const docs = statements(cmd, 'documents');
  const coll = ctx.store.ensure(ctx.db, name);
  let n = 0;
  const writeErrors = runBatch(cmd, docs, (raw) => {
    coll.insert(prepareInsert(raw));
    n++;
  });
  return finish({ n }, writeErrors);
};

/** Documents a statement targets: the first match (optionally by `sort`) or all with multi. */
export function targets(coll: Collection | undefined, query: Document, multi: boolean, sort?: unknown): Document[] {
  if (multi) return matchDocuments(coll, query);
  if (sort !== undefined && sort !== null && Object.keys(sort as Document).length > 0) {
    return findDocuments(coll, query, { sort, limit: 1 });
  }
  return matchDocuments(coll, query, 1);
}

function updateStatement(
  coll: Collection | undefined,
  ensure: () => Collection,
  stmt: Document,
  index: number,
  acc: { n: number; nModified: number; upserted: Document[] },
): void {
  const query = (stmt.q ?? {}) as Document;
  const multi = stmt.multi === true;
  rejectCollation(stmt.collation);
  const kind = updateKind(stmt.u);
  if (multi && kind === 'replacement')
    throw new CommandError(9, 'multi update is not supported for replacement-style update');
  const arrayFilters = stmt.arrayFilters as Document[] | undefined;
  const docs = targets(coll, query, multi, stmt.sort);
  if (docs.length === 0) {
    if (stmt.upsert !== true) return;
    const doc = buildUpsert({ u: stmt.u, arrayFilters, query });
    ensure().insert(prepareInsert(doc));
    acc.n++;
    acc.upserted.push({ index, _id: doc._id });
    return;
  }
  for (const doc of docs) {
    const result = applyUpdate(doc, { u: stmt.u, arrayFilters, query }, false);
    if (result.changed) coll?.replace(doc, result.doc);
    acc.n++;
    if (result.changed) acc.nModified++;
  }
}

const update: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'update');
  const stmts = statements(cmd, 'updates');
  // Only an upsert creates the collection, as in mongod; later statements must see it.
  const ensure = (): Collection => ctx.store.ensure(ctx.db, name);
  const acc = { n: 0, nModified: 0, upserted: [] as Document[] };
  const writeErrors = runBatch(cmd, stmts, (stmt, i) => {
    // A failing statement must not count: tally into a scratch accumulator first.
    const scratch = { n: 0, nModified: 0, upserted: [] as Document[] };
    updateStatement(ctx.store.get(ctx.db, name), ensure, stmt, i, scratch);
    acc.n += scratch.n;
    acc.nModified += scratch.nModified;
    acc.upserted.push(...scratch.upserted);
  });
  const reply: Document = { n: acc.n, nModified: acc.nModified };
  if (acc.upserted.length > 0) reply.upserted = acc.upserted;
  return finish(reply, writeErrors);
};

const del: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'delete');
  const stmts = statements(cmd, 'deletes');
  const coll = ctx.store.get(ctx.db, name);
  let n = 0;
  const writeErrors = runBatch(cmd, stmts, (stmt) => {
    rejectCollation(stmt.collation);
    const limit = Number(stmt.limit ?? 0);
    if (limit !== 0 && limit !== 1)
      throw new CommandError(9, 'The limit field in delete objects must be 0 or 1. Got ' + String(stmt.limit));
    const docs = targets(coll, (stmt.q ?? {}) as Document, limit === 0);
    for (const doc of docs) {
      coll?.remove(doc);
      n++;
    }
  });
  return finish({ n }, writeErrors);
};

/** `insert`, `update`, `delete`: per-statement errors inside an ok:1 reply. */
export const writeCommands: Record<string, CommandHandler> = { insert, update, delete: del };
