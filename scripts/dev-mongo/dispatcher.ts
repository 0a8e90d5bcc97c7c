import type { Document } from 'bson';
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
import { CommandError, notImplemented, toCommandError } from './errors.js';
import type { DevMongoLogger } from './logger.js';
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

/** Runs one command and always returns a reply document; it never throws. */
export function createDispatcher(deps: DispatcherDeps): (cmd: Document, db: string, connectionId: number) => Document {
  return function dispatch(cmd, db, connectionId) {
    const name = Object.keys(cmd)[0] ?? '';
    if (deps.logCommands) deps.logger.info({ db, command: name, body: summarize(cmd) }, 'command');
    deps.onCommand?.(cmd, db);
    const ctx: CommandContext = { store: deps.store, cursors: deps.cursors, txns: deps.txns, db, connectionId };
    try {
      const handler = HANDLERS.get(name) ?? HANDLERS.get(name.toLowerCase() === 'ismaster' ? 'isMaster' : '');
      if (!handler) throw new CommandError(59, `no such command: '${name}'`);
      const log =
        name === 'commitTransaction' || name === 'abortTransaction' ? null : deps.txns.logFor(cmd, connectionId);
      deps.store.journal.current = log;
      deps.store.journal.txn = log ? (TransactionRegistry.statementKey(cmd) ?? null) : null;
      try {
        return handler(cmd, ctx);
      } finally {
        deps.store.journal.current = null;
        deps.store.journal.txn = null;
      }
    } catch (err) {
      const error = toCommandError(err);
      if (!(err instanceof CommandError))
        deps.logger.warn({ db, command: name, err: error.message }, 'command failed with an internal error');
      return error.toReply();
    }
  };
}
