import type { Document } from 'bson';

/** An inverse action recorded while a transaction statement runs. */
export type UndoAction = () => void;

/**
 * Receives undo actions for writes made inside a transaction. The dispatcher points
 * `current` at the transaction's log and `txn` at its key for the duration of one (synchronous)
 * command; `txn` is null outside a transaction.
 *
 * It also keeps what a transaction must do when it ends: a document it inserted is hidden from
 * every other session until the commit (docs/dev-mongo.md, "Transactions"), and `settle` makes
 * it visible (commit) or forgets it (abort, after the undo removed the document).
 */
export class Journal {
  current: UndoAction[] | null = null;
  txn: string | null = null;
  private readonly endings = new Map<string, UndoAction[]>();
  private readonly waiters = new Map<string, (() => void)[]>();

  record(action: UndoAction): void {
    this.current?.push(action);
  }

  /** Runs `action` when the running command's transaction ends (commit or abort). */
  atEnd(action: UndoAction): void {
    if (this.txn === null) return;
    const list = this.endings.get(this.txn);
    if (list) list.push(action);
    else this.endings.set(this.txn, [action]);
  }

  /** Resolves when the transaction `key` commits or aborts (a write outside it waits for that). */
  whenSettled(key: string): Promise<void> {
    return new Promise((resolve) => {
      const list = this.waiters.get(key);
      if (list) list.push(resolve);
      else this.waiters.set(key, [resolve]);
    });
  }

  /** The transaction `key` committed or aborted. */
  settle(key: string): void {
    const list = this.endings.get(key);
    this.endings.delete(key);
    for (const action of list ?? []) action();
    const waiting = this.waiters.get(key);
    this.waiters.delete(key);
    for (const resolve of waiting ?? []) resolve();
  }

  clear(): void {
    this.endings.clear();
    for (const list of this.waiters.values()) for (const resolve of list) resolve();
    this.waiters.clear();
  }
}

/** Options stored for a collection: generic command fields never leak into it. */
export type CollectionOptions = Document;
