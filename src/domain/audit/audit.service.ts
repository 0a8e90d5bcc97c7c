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
 */
export async function recordAudit(input: AuditInput): Promise<void> {
  await AuditEntryModel.create({
    at: input.at,
    actor: { tokenId: input.actor.tokenId, role: input.actor.role, userid: input.actor.userid },
    action: input.action,
    target: input.target,
    requestId: input.requestId,
    detail: input.detail,
  });
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
