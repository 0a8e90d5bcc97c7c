import type { Document } from 'bson';
import { commandProfiler } from './command-profile.js';
import { adminCommands } from './commands/admin.js';
import { aggregateCommands } from './commands/aggregate.js';
import { collectionCommands } from './commands/collections.js';
import type { CommandContext, CommandHandler } from './commands/context.js';
import { findAndModifyCommands } from './commands/find-and-modify.js';
import { indexCommands } from './commands/index-commands.js';
import { readCommands } from './commands/read.js';
import { sessionCommands } from './commands/sessions.js';
import { writeCommands } from './commands/write.js';
import type { CursorRegistry } from './cursors.js';
import { CommandError, WriteConflict, notImplemented, toCommandError } from './errors.js';
import type { UndoAction } from './journal.js';
import type { DevMongoLogger } from './logger.js';
import type { Dispatch } from './server.js';
import type { Store } from './storage.js';
import { TransactionRegistry } from './transactions.js';

const AUTH_COMMANDS = [
  'saslStart',
  'saslContinue',
  'authenticate',
  'logout',
  'createUser',
  'dropUser',
  'updateUser',
  'usersInfo',
  'createRole',
];

const HANDLERS = new Map<string, CommandHandler>(
  Object.entries({
    ...adminCommands,
    ...collectionCommands,
    ...indexCommands,
    ...writeCommands,
    ...findAndModifyCommands,
    ...readCommands,
    ...aggregateCommands,
    ...sessionCommands,
  }),
);

for (const name of AUTH_COMMANDS)
  HANDLERS.set(name, () => {
    throw notImplemented('authentication');
  });

/** Shrinks bulk arrays so `--log-commands` lines stay readable. */
function summarize(cmd: Document): Document {
  const out: Document = {};
  for (const [k, v] of Object.entries(cmd)) {
    if (k === 'lsid' || k === '$clusterTime') continue;
    out[k] = Array.isArray(v) && v.length > 3 ? [...v.slice(0, 3), `… ${v.length - 3} more`] : v;
  }
  return out;
}

export interface DispatcherDeps {
  store: Store;
  cursors: CursorRegistry;
  txns: TransactionRegistry;
  logger: DevMongoLogger;
  logCommands: boolean;
  onCommand?: (command: Document, db: string) => void;
}

/** How long a write outside a transaction waits for one holding its document (MongoDB's transaction lifetime limit). */
const CONFLICT_WAIT_MS = 60_000;

/**
 * Runs one command and always answers with a reply document; it never throws. The answer is
 * immediate, except for a write outside a transaction that met a document another open
 * transaction inserted: as in MongoDB it waits until that transaction ends, then runs again
 * (docs/dev-mongo.md, "Transactions").
 */
export function createDispatcher(deps: DispatcherDeps): Dispatch {
  const execute = (cmd: Document, db: string, connectionId: number, name: string): Document | Promise<Document> => {
    const ctx: CommandContext = { store: deps.store, cursors: deps.cursors, txns: deps.txns, db, connectionId };
    const journal = deps.store.journal;
    try {
      const handler = HANDLERS.get(name) ?? HANDLERS.get(name.toLowerCase() === 'ismaster' ? 'isMaster' : '');
      if (!handler) throw new CommandError(59, `no such command: '${name}'`);
      const log =
        name === 'commitTransaction' || name === 'abortTransaction' ? null : deps.txns.logFor(cmd, connectionId);
      const txn = log ? (TransactionRegistry.statementKey(cmd) ?? null) : null;
      // Outside a transaction the command's own writes are logged too, so a write conflict can
      // take back what the command did before it and run it again from the start.
      const own: UndoAction[] = [];
      journal.current = log ?? own;
      journal.txn = txn;
      try {
        return handler(cmd, ctx);
      } catch (err) {
        if (!(err instanceof WriteConflict)) throw err;
        if (txn !== null) {
          deps.txns.abortKey(txn); // MongoDB aborts a transaction that meets a write conflict
          throw err;
        }
        for (let i = own.length - 1; i >= 0; i--) own[i]?.();
        return waitThenRetry(err.holder, () => execute(cmd, db, connectionId, name));
      } finally {
        journal.current = null;
        journal.txn = null;
      }
    } catch (err) {
      const error = toCommandError(err);
      if (!(err instanceof CommandError))
        deps.logger.warn({ db, command: name, err: error.message }, 'command failed with an internal error');
      return error.toReply();
    }
  };

  const waitThenRetry = async (holder: string, retry: () => Document | Promise<Document>): Promise<Document> => {
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      deps.store.journal.whenSettled(holder).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CONFLICT_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (!settled)
      return new CommandError(112, 'Write conflict: the transaction holding the document did not end').toReply();
    return retry();
  };

  const profiler = commandProfiler(process.env.DEV_MONGO_PROFILE_FILE);
  return function dispatch(cmd, db, connectionId) {
    const name = Object.keys(cmd)[0] ?? '';
    if (deps.logCommands) deps.logger.info({ db, command: name, body: summarize(cmd) }, 'command');
    deps.onCommand?.(cmd, db);
    return profiler
      ? profiler.measure(cmd, () => execute(cmd, db, connectionId, name))
      : execute(cmd, db, connectionId, name);
  };
}
