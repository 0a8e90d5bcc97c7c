import type { Document } from 'bson';
import { CommandError } from '../errors.js';
import type { CursorRegistry } from '../cursors.js';
import type { Store } from '../storage.js';
import type { TransactionRegistry } from '../transactions.js';

/** What every command handler may use. */
export interface CommandContext {
  store: Store;
  cursors: CursorRegistry;
  txns: TransactionRegistry;
  db: string;
  connectionId: number;
}

/** Returns the reply document (ok:1 implied by the handler) or throws a CommandError. */
export type CommandHandler = (cmd: Document, ctx: CommandContext) => Document;

/** The collection name argument of a command (`{ find: "users" }`). */
export function collectionArg(cmd: Document, name: string): string {
  const v: unknown = cmd[name];
  if (typeof v !== 'string' || v.length === 0) {
    throw new CommandError(73, `collection name has invalid type ${typeof v}`);
  }
  return v;
}
