import { OutcomeModel } from './outcome.model.js';

/**
 * Outcomes no owner was found for, newest first (docs/outcomes.md, "Matching"): the DMS knows an
 * owner the bot does not reach. Items carry the DMS ids, type and date, and the VIN (whoever may
 * read it is a dealer role; the route's policy marks personal data).
 */
export async function listUnmatchedOutcomes(corpId: string, limit: number, before?: Date) {
  const rows = await OutcomeModel.find(
    { corpId, matchedBy: 'none', status: 'active', ...(before ? { occurredAt: { $lt: before } } : {}) },
    { source: 1, externalId: 1, version: 1, type: 1, roType: 1, occurredAt: 1, vin: 1, revenue: 1 },
  )
    .sort({ occurredAt: -1 })
    .limit(limit)
    .lean();
  const total = await OutcomeModel.countDocuments({ corpId, matchedBy: 'none', status: 'active' });
  return {
    total,
    items: rows.map((r) => ({
      id: String(r._id),
      source: r.source,
      externalId: r.externalId,
      version: r.version,
      type: r.type,
      roType: r.roType ?? undefined,
      occurredAt: r.occurredAt,
      vin: r.vin ?? undefined,
      revenue: r.revenue,
    })),
  };
}
