import type { Document } from 'bson';
import { keyOf } from './bson-values.js';
import { CommandError } from './errors.js';
import type { UndoAction } from './journal.js';

const TRANSIENT = ['TransientTransactionError'];

/**
 * Transactions as undo logs keyed by (lsid, txnNumber). Commit drops the log, abort
 * replays it backwards. There is no isolation: other sessions see uncommitted writes.
 */
export class TransactionRegistry {
  private readonly open = new Map<string, UndoAction[]>();
  private readonly committed = new Set<string>();

  private static key(cmd: Document): string | undefined {
    const lsid = cmd.lsid as Document | undefined;
    if (!lsid || cmd.txnNumber === undefined) return undefined;
    return `${keyOf(lsid.id)}:${String(cmd.txnNumber)}`;
  }

  /** The undo log a statement must write into, or null outside a transaction. */
  logFor(cmd: Document): UndoAction[] | null {
    if (cmd.autocommit !== false) return null;
    const key = TransactionRegistry.key(cmd);
    if (!key) return null;
    if (cmd.startTransaction === true) {
      const log: UndoAction[] = [];
      this.open.set(key, log);
      return log;
    }
    const log = this.open.get(key);
    if (!log) throw new CommandError(251, `Transaction with { txnNumber: ${String(cmd.txnNumber)} } has been aborted.`, {}, TRANSIENT);
    return log;
  }

  commit(cmd: Document): void {
    const key = TransactionRegistry.key(cmd);
    if (key && this.open.delete(key)) {
      this.committed.add(key);
      return;
    }
    if (key && this.committed.has(key)) return; // a retried commit is idempotent
    throw new CommandError(251, `Transaction with { txnNumber: ${String(cmd.txnNumber)} } has been aborted.`, {}, TRANSIENT);
  }

  abort(cmd: Document): void {
    const key = TransactionRegistry.key(cmd);
    const log = key ? this.open.get(key) : undefined;
    if (!key || !log) throw new CommandError(251, `Transaction with { txnNumber: ${String(cmd.txnNumber)} } has been aborted.`, {}, TRANSIENT);
    this.open.delete(key);
    for (let i = log.length - 1; i >= 0; i--) log[i]?.();
  }

  /** Aborts every open transaction of the given sessions (endSessions). */
  endSessions(ids: unknown[]): void {
    const prefixes = ids.map((id) => `${keyOf(id)}:`);
    for (const [key, log] of this.open) {
      if (prefixes.some((p) => key.startsWith(p))) {
        this.open.delete(key);
        for (let i = log.length - 1; i >= 0; i--) log[i]?.();
      }
    }
  }

  clear(): void {
    this.open.clear();
    this.committed.clear();
  }
}
