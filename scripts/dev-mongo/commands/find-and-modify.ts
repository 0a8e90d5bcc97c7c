import type { Document } from 'bson';
import { CommandError } from '../errors.js';
import { makeProjector } from '../projection.js';
import { rejectCollation } from '../query.js';
import { applyUpdate, buildUpsert } from '../update.js';
import { collectionArg, type CommandHandler } from './context.js';
import { prepareInsert, targets } from './write.js';

/** `findAndModify`: errors are top-level (ok:0), including 11000 DuplicateKey. */
const findAndModify: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'findAndModify' in cmd ? 'findAndModify' : 'findandmodify');
  const query = (cmd.query ?? {}) as Document;
  rejectCollation(cmd.collation);
  const remove = cmd.remove === true;
  if (remove && cmd.update !== undefined) throw new CommandError(9, 'Cannot specify both an update and remove=true');
  if (!remove && cmd.update === undefined)
    throw new CommandError(9, 'Either an update or remove=true must be specified');
  if (remove && cmd.upsert === true) throw new CommandError(9, 'Cannot specify both upsert=true and remove=true');
  const project = makeProjector(cmd.fields, query);
  const out = (doc: Document | undefined): Document | null => (doc ? (project([doc])[0] ?? null) : null);
  const coll = remove ? ctx.store.get(ctx.db, name) : ctx.store.ensure(ctx.db, name);
  const [target] = targets(coll, query, false, cmd.sort);
  if (remove) {
    if (target) coll?.remove(target);
    return { lastErrorObject: { n: target ? 1 : 0 }, value: out(target), ok: 1 };
  }
  const input = { u: cmd.update, arrayFilters: cmd.arrayFilters as Document[] | undefined, query };
  if (!coll) throw new CommandError(26, `ns not found ${ctx.db}.${name}`);
  if (target) {
    const result = applyUpdate(target, input, false);
    if (result.changed) coll.replace(target, result.doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: out(cmd.new === true ? result.doc : target),
      ok: 1,
    };
  }
  if (cmd.upsert === true) {
    const doc = prepareInsert(buildUpsert(input));
    coll.insert(doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: cmd.new === true ? out(doc) : null,
      ok: 1,
    };
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
};

export const findAndModifyCommands: Record<string, CommandHandler> = { findAndModify, findandmodify: findAndModify };
