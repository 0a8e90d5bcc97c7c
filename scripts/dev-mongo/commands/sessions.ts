import type { Document } from 'bson';
import type { CommandHandler } from './context.js';

/** `commitTransaction`, `abortTransaction`, `endSessions` (sent with moreToCome: no reply). */
export const sessionCommands: Record<string, CommandHandler> = {
  commitTransaction: (cmd, ctx) => {
    ctx.txns.commit(cmd);
    return { ok: 1 };
  },
  abortTransaction: (cmd, ctx) => {
    ctx.txns.abort(cmd);
    return { ok: 1 };
  },
  endSessions: (cmd, ctx) => {
    const ids = Array.isArray(cmd.endSessions) ? (cmd.endSessions as Document[]).map((s) => s.id) : [];
    ctx.txns.endSessions(ids);
    return { ok: 1 };
  },
};
