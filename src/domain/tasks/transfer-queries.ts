import { corpFilter, type Principal } from '../auth/principal.js';
import { managedAdvisors } from '../customers/advisor-queries.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { TransferModel, type TransferLean } from './transfer.model.js';

/**
 * Transfer queries the admin API and the console share (docs/architecture.md §10: routes call
 * these, never the transfer model).
 */

/**
 * Which transfers a principal sees: its corps, and for managers only those whose handing-over or
 * taking-over advisor is in the departments they lead (docs/architecture.md §5, object level).
 */
export async function transferScopeFilter(p: Principal): Promise<Record<string, unknown>> {
  const base = corpFilter(p);
  if (p.role !== 'manager') return base;
  const team = await managedAdvisors(p);
  return { ...base, $or: [{ handoverUserid: { $in: team } }, { takeoverUserid: { $in: team } }] };
}

/** The latest 100 transfers a principal sees, optionally of one corp, newest first. */
export async function listTransfers(p: Principal, corpId?: string): Promise<TransferLean[]> {
  const filter = { $and: [await transferScopeFilter(p), ...(corpId ? [{ corpId }] : [])] };
  return (await TransferModel.find(filter).sort({ _id: -1 }).limit(100).lean()) as unknown as TransferLean[];
}

/** One transfer the principal sees, or null (unknown, malformed id, or outside the scope). */
export async function findScopedTransfer(p: Principal, id: string): Promise<TransferLean | null> {
  if (!/^[a-f0-9]{24}$/.test(id)) return null;
  return (await TransferModel.findOne({
    $and: [{ _id: id }, await transferScopeFilter(p)],
  }).lean()) as TransferLean | null;
}

/** The external contacts an advisor actively follows (what "transfer all" moves). */
export async function activeCustomersOf(corpId: string, userid: string): Promise<string[]> {
  const rows = await RelationshipModel.find({ corpId, userid, status: 'active' }, { externalUserId: 1 }).lean();
  return rows.map((r) => r.externalUserId);
}
