import type { Document } from 'bson';

/** An inverse action recorded while a transaction statement runs. */
export type UndoAction = () => void;

/**
 * Receives undo actions for writes made inside a transaction. The dispatcher points
 * `current` at the transaction's log for the duration of one (synchronous) command.
 */
export class Journal {
  current: UndoAction[] | null = null;

  record(action: UndoAction): void {
    this.current?.push(action);
  }
}

/** Options stored for a collection: generic command fields never leak into it. */
export type CollectionOptions = Document;
