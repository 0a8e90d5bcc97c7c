import { AdvisorAvailabilityModel } from './channel.model.js';
import { LeadModel, type LeadLean } from './lead.model.js';

/**
 * Lead and advisor-availability reads and writes the admin API shares (docs/architecture.md §10:
 * routes call these, never the acquisition models). Filters are built by the caller from the
 * principal's scope.
 */

/** The newest leads matching `filter`, at most `limit`. */
export async function findLeads(filter: Record<string, unknown>, limit: number): Promise<LeadLean[]> {
  return (await LeadModel.find(filter).sort({ createdAt: -1 }).limit(limit).lean()) as LeadLean[];
}

/** Whether the lead `id` also matches `filter` (a principal's scope). */
export async function leadMatches(id: LeadLean['_id'], filter: Record<string, unknown>): Promise<boolean> {
  return (await LeadModel.exists({ _id: id, ...filter })) !== null;
}

export interface AvailabilityPatch {
  offShift?: boolean;
  /** ISO date-time; null clears it. */
  leaveUntil?: string | null;
  leadCap?: number | null;
  onDuty?: boolean;
}

/** Applies an advisor's availability change (null clears a field, absent keeps it); the stored state. */
export async function setAdvisorAvailability(corpId: string, userid: string, patch: AvailabilityPatch) {
  const set: Record<string, unknown> = {};
  const unset: Record<string, 1> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) unset[k] = 1;
    else if (v !== undefined) set[k] = k === 'leaveUntil' ? new Date(v as string) : v;
  }
  const update = { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) };
  return AdvisorAvailabilityModel.findOneAndUpdate({ corpId, userid }, update, { upsert: true, new: true })
    .lean()
    .exec();
}
