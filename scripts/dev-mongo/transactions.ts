import type { Document } from 'bson';
import { keyOf } from './bson-values.js';
import { CommandError } from './errors.js';
import type { Journal, UndoAction } from './journal.js';

const TRANSIENT = ['TransientTransactionError'];

/**
 * Transactions as undo logs keyed by (lsid, txnNumber). Commit drops the log, abort
 * replays it backwards. Other sessions see uncommitted updates and deletes (no isolation).
 *
 * A transaction whose client went away (every connection that carried one of its statements
 * closed: a process killed mid-transaction) is aborted, as a real server never makes a dead
 * client's uncommitted writes durable; without this a retried handler would find half of a
 * transaction applied (docs/dev-mongo.md).
 *
 * Documents a transaction inserts stay invisible to other sessions until it commits (the journal
 * tracks them; `settle` on commit and abort), so a reader never acts on a document that an abort
 * then takes back: the outbox relay once queued a domain event whose transaction was rolled back
 * by a server restart (docs/scale.md §2).
 */
export class TransactionRegistry {
  private readonly open = new Map<string, UndoAction[]>();
  private readonly committed = new Set<string>();
  /** The connections that carried statements of each open transaction. */
  private readonly carriers = new Map<string, Set<number>>();
  private readonly liveConnections = new Set<number>();

  constructor(private readonly journal?: Journal) {}

  /** The transaction a statement belongs to (`lsid:txnNumber`), or undefined outside one. */
  static statementKey(cmd: Document): string | undefined {
    return cmd.autocommit === false ? TransactionRegistry.key(cmd) : undefined;
  }

  private static key(cmd: Document): string | undefined {
    const lsid = cmd.lsid as Document | undefined;
    if (!lsid || cmd.txnNumber === undefined) return undefined;
    return `${keyOf(lsid.id)}:${String(cmd.txnNumber)}`;
  }

  /** The undo log a statement must write into, or null outside a transaction. */
  logFor(cmd: Document, connectionId?: number): UndoAction[] | null {
    if (cmd.autocommit !== false) return null;
    const key = TransactionRegistry.key(cmd);
    if (!key) return null;
    if (cmd.startTransaction === true) {
      const log: UndoAction[] = [];
      this.open.set(key, log);
      this.carriers.set(key, new Set());
      this.carry(key, connectionId);
      return log;
    }
    const log = this.open.get(key);
    if (!log)
      throw new CommandError(
        251,
        `Transaction with { txnNumber: ${String(cmd.txnNumber)} } has been aborted.`,
        {},
        TRANSIENT,
      );
    this.carry(key, connectionId);
    return log;
  }

  /** A client connection opened (the server tells the registry, so closes can be matched). */
  connectionOpened(connectionId: number): void {
    this.liveConnections.add(connectionId);
  }

  /** A client connection closed: abort the open transactions no live connection carries any more. */
  connectionClosed(connectionId: number): void {
    this.liveConnections.delete(connectionId);
    for (const [key, conns] of [...this.carriers]) {
      if (!conns.has(connectionId) || [...conns].some((c) => this.liveConnections.has(c))) continue;
      this.undo(key);
    }
  }

  private carry(key: string, connectionId: number | undefined): void {
    if (connectionId !== undefined) this.carriers.get(key)?.add(connectionId);
  }

  private undo(key: string): void {
    const log = this.open.get(key);
    this.open.delete(key);
    this.carriers.delete(key);
    if (log) for (let i = log.length - 1; i >= 0; i--) log[i]?.();
    this.journal?.settle(key);
  }

  /**
   * Aborts every open transaction (the server is stopping): its writes must not reach the
   * snapshot, as a real server's journal never makes uncommitted writes durable.
   */
  abortAll(): void {
    for (const key of [...this.open.keys()]) this.undo(key);
  }

  commit(cmd: Document): void {
    const key = TransactionRegistry.key(cmd);
    if (key && this.open.delete(key)) {
      this.carriers.delete(key);
      this.committed.add(key);
      this.journal?.settle(key);
      return;
    }
    if (key && this.committed.has(key)) return; // a retried commit is idempotent
    throw new CommandError(
      251,
      `Transaction with { txnNumber: ${String(cmd.txnNumber)} } has been aborted.`,
      {},
      TRANSIENT,
    );
  }

  abort(cmd: Document): void {
    const key = TransactionRegistry.key(cmd);
    const log = key ? this.open.get(key) : undefined;
    if (!key || !log)
      throw new CommandError(
        251,
        `Transaction with { txnNumber: ${String(cmd.txnNumber)} } has been aborted.`,
        {},
        TRANSIENT,
      );
    this.undo(key);
  }

  /** Aborts the open transaction `key` (it met a write conflict); its next statement answers 251. */
  abortKey(key: string): void {
    if (this.open.has(key)) this.undo(key);
  }

  /** Aborts every open transaction of the given sessions (endSessions). */
  endSessions(ids: unknown[]): void {
    const prefixes = ids.map((id) => `${keyOf(id)}:`);
    for (const key of [...this.open.keys()]) {
      if (prefixes.some((p) => key.startsWith(p))) this.undo(key);
    }
  }

  clear(): void {
    this.journal?.clear();
    this.open.clear();
    this.carriers.clear();
    this.committed.clear();
  }
}
