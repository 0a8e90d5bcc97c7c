import { dayjs } from '../../infra/clock.js';
import { CustomerModel } from '../customers/customer.model.js';
import { RelationshipModel } from '../customers/relationship.model.js';
import { eraseCustomer, SYSTEM_ERASER, type ErasureDeps } from './erasure.service.js';

export interface RetentionSweepInput {
  corpId: string;
  /** Days after the last relationship ended (the corp's `privacy.retentionDays`). */
  retentionDays: number;
  /** At most this many erasures per run; the next day's run continues. Default 5,000. */
  limit?: number;
}

/**
 * Customers of a corp whose retention period is over (PIPL Art. 19 and 47): none of their
 * relationships is active and the last one ended more than `retentionDays` ago. Customers already
 * erased are left out.
 */
export async function findExpiredCustomers(
  corpId: string,
  retentionDays: number,
  now: Date,
  limit: number,
): Promise<string[]> {
  const cutoff = dayjs.utc(now).subtract(retentionDays, 'day').toDate();
  const candidates = await RelationshipModel.distinct('customerId', {
    corpId,
    status: { $ne: 'active' },
    statusChangedAt: { $lte: cutoff },
  });
  if (candidates.length === 0) return [];
  const notErased = await CustomerModel.find(
    { _id: { $in: candidates }, corpId, erasedAt: { $exists: false } },
    { _id: 1 },
  ).lean();
  const expired: string[] = [];
  for (const c of notErased) {
    const recent = await RelationshipModel.exists({
      corpId,
      customerId: c._id,
      $or: [{ status: 'active' }, { statusChangedAt: { $gt: cutoff } }],
    });
    if (!recent) expired.push(String(c._id));
    if (expired.length >= limit) break;
  }
  return expired;
}

/**
 * The daily retention sweep of one corp (docs/data-inventory.md): erases every customer whose retention period
 * after the last relationship ended has passed, with reason `retention_expired` and the system
 * actor in the audit tombstone. Safe to rerun (erasure is idempotent; erased customers are skipped).
 */
export async function runRetentionSweep(deps: ErasureDeps, input: RetentionSweepInput): Promise<{ erased: number }> {
  const ids = await findExpiredCustomers(input.corpId, input.retentionDays, deps.clock.now(), input.limit ?? 5000);
  for (const customerId of ids) {
    await eraseCustomer(deps, { corpId: input.corpId, customerId, reason: 'retention_expired', actor: SYSTEM_ERASER });
  }
  deps.logger?.info(
    { corpId: input.corpId, erased: ids.length, retentionDays: input.retentionDays },
    'retention sweep done',
  );
  return { erased: ids.length };
}
