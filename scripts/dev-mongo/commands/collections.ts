import type { Document } from 'bson';
import { Query } from 'mingo/query';
import { CommandError, notImplemented } from '../errors.js';
import { queryOptions } from '../mingo-context.js';
import { collectionArg, type CommandHandler } from './context.js';

/** Fields every command may carry that are never part of stored options. */
export const GENERIC_FIELDS = new Set([
  '$db',
  'lsid',
  'txnNumber',
  'autocommit',
  'startTransaction',
  '$clusterTime',
  '$readPreference',
  'readConcern',
  'writeConcern',
  'maxTimeMS',
  'comment',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  '$audit',
  'mayBypassWriteBlocking',
]);

const create: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'create');
  if (cmd.viewOn !== undefined) throw notImplemented('views (create with viewOn)');
  if (cmd.timeseries !== undefined) throw notImplemented('time-series collections');
  if (cmd.clusteredIndex !== undefined) throw notImplemented('clustered collections');
  if (cmd.capped === true) throw notImplemented('capped collections');
  const options: Document = {};
  for (const [k, v] of Object.entries(cmd)) if (k !== 'create' && !GENERIC_FIELDS.has(k)) options[k] = v;
  ctx.store.create(ctx.db, name, options);
  return { ok: 1 };
};

const drop: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'drop');
  const coll = ctx.store.drop(ctx.db, name);
  if (!coll) return { ok: 1 };
  return { nIndexesWas: coll.indexes.length + 1, ns: coll.ns, ok: 1 };
};

const dropDatabase: CommandHandler = (_cmd, ctx) => {
  ctx.store.dropDatabase(ctx.db);
  return { dropped: ctx.db, ok: 1 };
};

const listCollections: CommandHandler = (cmd, ctx) => {
  const nameOnly = cmd.nameOnly === true;
  let infos: Document[] = ctx.store.collections(ctx.db).map((c) => ({
    name: c.name,
    type: 'collection',
    options: c.options,
    info: { readOnly: false, uuid: c.uuid },
    idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
  }));
  if (cmd.filter && Object.keys(cmd.filter as Document).length > 0) {
    const q = new Query(cmd.filter as Document, queryOptions());
    infos = infos.filter((i) => q.test(i));
  }
  if (nameOnly) infos = infos.map((i) => ({ name: i.name, type: i.type }));
  const cursorOpts = (cmd.cursor ?? {}) as Document;
  return ctx.cursors.open(`${ctx.db}.$cmd.listCollections`, infos, {
    batchSize: typeof cursorOpts.batchSize === 'number' ? cursorOpts.batchSize : undefined,
  });
};

const listDatabases: CommandHandler = (cmd, ctx) => {
  const names = ctx.store.databaseNames();
  if (cmd.nameOnly === true) return { databases: names.map((name) => ({ name })), ok: 1 };
  return {
    databases: names.map((name) => ({ name, sizeOnDisk: 0, empty: false })),
    totalSize: 0,
    totalSizeMb: 0,
    ok: 1,
  };
};

/** `create`, `drop`, `dropDatabase`, `listCollections`, `listDatabases`. */
export const collectionCommands: Record<string, CommandHandler> = {
  create,
  drop,
  dropDatabase,
  listCollections,
  listDatabases,
  renameCollection: () => {
    throw new CommandError(
      238,
      'renameCollection is not supported by the dev-mongo development server (it is not MongoDB)',
    );
  },
};
