import type { Principal } from '../auth/principal.js';
import { AuditEntryModel } from './audit-entry.model.js';

export interface AuditInput {
  actor: Principal;
  action: string;
  target: { type: string; id?: string; corpId?: string };
  requestId?: string;
  /** Ids, versions, field names; never personal values. */
  detail?: Record<string, string | number | boolean | string[]>;
  at: Date;
}

/**
 * Writes one audit record (docs/architecture.md §7: every change and every read of personal data through the
 * API). Awaited by the route, so a change that cannot be audited fails instead of going unrecorded.
 * Records of requests answered together are written together (group commit, like the lead intake's
 * batches, docs/acquisition.md "Leads"): one `insertMany` per turn of the event loop, or per write in
 * flight, instead of one insert per request; each caller still waits for its own record to be stored.
 */
export function recordAudit(input: AuditInput): Promise<void> {
  return new Promise((resolve, reject) => {
    pending.push({
      doc: {
        at: input.at,
        actor: { tokenId: input.actor.tokenId, role: input.actor.role, userid: input.actor.userid },
        action: input.action,
        target: input.target,
        requestId: input.requestId,
        detail: input.detail,
      },
      resolve,
      reject,
    });
    if (!writing) {
      writing = true;
      setImmediate(() => void writeAll());
    }
  });
}

/** Most records one write carries. */
const MAX_AUDIT_BATCH = 500;
const pending: Array<{ doc: Record<string, unknown>; resolve(): void; reject(err: unknown): void }> = [];
let writing = false;

async function writeAll(): Promise<void> {
  try {
    while (pending.length > 0) {
      const batch = pending.splice(0, MAX_AUDIT_BATCH);
      try {
        await AuditEntryModel.insertMany(
          batch.map((b) => b.doc),
          { ordered: true },
        );
        for (const b of batch) b.resolve();
      } catch (err) {
        // A record that cannot be stored fails its request (and, conservatively, the others of its write).
        for (const b of batch) b.reject(err);
      }
    }
  } finally {
    writing = false;
  }
}

export interface AuditQuery {
  corpId?: string;
  action?: string;
  tokenId?: string;
  before?: Date;
  limit: number;
}

/** Newest first, `before` for paging. */
export async function listAudit(q: AuditQuery) {
  const filter: Record<string, unknown> = {};
  if (q.corpId) filter['target.corpId'] = q.corpId;
  if (q.action) filter.action = q.action;
  if (q.tokenId) filter['actor.tokenId'] = q.tokenId;
  if (q.before) filter.at = { $lt: q.before };
  const docs = await AuditEntryModel.find(filter).sort({ at: -1, _id: -1 }).limit(q.limit).lean();
  return docs.map((d) => ({
    id: String(d._id),
    at: d.at,
    actor: d.actor,
    action: d.action,
    target: d.target,
    requestId: d.requestId ?? undefined,
    detail: d.detail ?? undefined,
  }));
}
