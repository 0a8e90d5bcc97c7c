import type { Document } from 'bson';
import { isPlainObject, keyOf, renderValue } from '../bson-values.js';
import { CommandError, notImplemented } from '../errors.js';
import { Index, defaultIndexName, normalizeSpec, sameOptions } from '../indexes.js';
import { collectionArg, type CommandHandler } from './context.js';

const ID_SPEC: Document = { v: 2, key: { _id: 1 }, name: '_id_' };

function validateKey(key: unknown): Document {
  if (!isPlainObject(key) || Object.keys(key).length === 0) throw new CommandError(67, 'Index keys cannot be empty.');
  for (const [field, dir] of Object.entries(key)) {
    if (dir === 'text') throw notImplemented('text indexes');
    if (dir === '2d' || dir === '2dsphere' || dir === 'geoHaystack') throw notImplemented('geospatial indexes');
    if (dir === 'hashed') throw notImplemented('hashed indexes');
    if (field.includes('$**')) throw notImplemented('wildcard indexes');
    if (typeof dir !== 'number' || dir === 0)
      throw new CommandError(
        67,
        `Values in the index key pattern can contain only non-zero numbers or the following strings: 'text', '2d', '2dsphere', 'hashed'; found ${renderValue(dir)}`,
      );
  }
  return key;
}

const createIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'createIndexes');
  const specs = cmd.indexes;
  if (!Array.isArray(specs) || specs.length === 0)
    throw new CommandError(2, 'Must specify at least one index to create');
  let coll = ctx.store.get(ctx.db, name);
  const created = !coll;
  coll = coll ?? ctx.store.ensure(ctx.db, name);
  const before = coll.indexes.length + 1;
  for (const raw of specs as Document[]) {
    const key = validateKey(raw.key);
    const indexName = typeof raw.name === 'string' ? raw.name : defaultIndexName(key);
    const spec = normalizeSpec({ ...raw, key, name: indexName });
    if (indexName === '_id_' || keyOf(key) === keyOf({ _id: 1 })) {
      if (keyOf(key) !== keyOf({ _id: 1 }) || indexName !== '_id_')
        throw new CommandError(85, `Index already exists with a different name: _id_`);
      continue;
    }
    const sameName = coll.findIndex(indexName);
    if (sameName) {
      if (keyOf(sameName.key) !== keyOf(key)) {
        throw new CommandError(
          86,
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${renderValue(spec)}, existing index: ${renderValue(sameName.spec)}`,
        );
      }
      if (!sameOptions(sameName.spec, spec)) {
        throw new CommandError(
          85,
          `An equivalent index already exists with the same name but different options. Requested index: ${renderValue(spec)}, existing index: ${renderValue(sameName.spec)}`,
        );
      }
      continue;
    }
    const sameKey = coll.indexes.find(
      (ix) =>
        keyOf(ix.key) === keyOf(key) && keyOf(ix.spec.partialFilterExpression) === keyOf(spec.partialFilterExpression),
    );
    if (sameKey) throw new CommandError(85, `Index already exists with a different name: ${sameKey.name}`);
    coll.addIndex(new Index(spec));
  }
  return {
    numIndexesBefore: before,
    numIndexesAfter: coll.indexes.length + 1,
    createdCollectionAutomatically: created,
    ok: 1,
  };
};

const listIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'listIndexes');
  const coll = ctx.store.get(ctx.db, name);
  if (!coll) throw new CommandError(26, `ns does not exist: ${ctx.db}.${name}`);
  const specs = [ID_SPEC, ...coll.indexes.map((ix) => ix.spec)];
  const cursorOpts = (cmd.cursor ?? {}) as Document;
  return ctx.cursors.open(coll.ns, specs, {
    batchSize: typeof cursorOpts.batchSize === 'number' ? cursorOpts.batchSize : undefined,
  });
};

const dropIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'dropIndexes');
  const coll = ctx.store.get(ctx.db, name);
  if (!coll) throw new CommandError(26, `ns not found ${ctx.db}.${name}`);
  const was = coll.indexes.length + 1;
  const target: unknown = cmd.index;
  let names: string[];
  if (target === '*') names = coll.indexes.map((ix) => ix.name);
  else if (typeof target === 'string') names = [target];
  else if (Array.isArray(target)) names = target.map(String);
  else if (isPlainObject(target)) {
    if (keyOf(target) === keyOf({ _id: 1 })) throw new CommandError(72, 'cannot drop _id index');
    const ix = coll.indexes.find((i) => keyOf(i.key) === keyOf(target));
    if (!ix) throw new CommandError(27, `can't find index with key: ${renderValue(target)}`);
    names = [ix.name];
  } else throw new CommandError(14, "BSON field 'dropIndexes.index' is the wrong type");
  for (const n of names) {
    if (n === '_id_') throw new CommandError(72, 'cannot drop _id index');
    if (!coll.findIndex(n)) throw new CommandError(27, `index not found with name [${n}]`);
  }
  for (const n of names) coll.dropIndex(n);
  return { nIndexesWas: was, ok: 1 };
};

/** `createIndexes`, `listIndexes`, `dropIndexes`. */
export const indexCommands: Record<string, CommandHandler> = {
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
};
