import { Types } from 'mongoose';
import type { Principal } from '../auth/principal.js';
import { dayjs } from '../../infra/clock.js';
import { ExecutionModel } from './engine/execution.model.js';
import type { RuleView } from './rule.service.js';

/** A rule in the list, with how many customers it acted for this calendar month. */
export type RuleListItem = RuleView & { hitsThisMonth: number };

/** The first instant of the calendar month of `now` in `timeZone` (the dealer's month, not UTC's). */
export function monthStart(now: Date, timeZone: string): Date {
  return dayjs(now).tz(timeZone).startOf('month').toDate();
}

/**
 * Customers a rule acted for since `since` (the console's 本月触达): distinct execution subjects
 * per rule, so a date rule that fires twice for one customer counts them once (docs/console.md). One
 * aggregation over the `ruleId` prefix of the execution index, counting only the principal's
 * corps: a dealer sees how many of its own customers an all-corps rule reached. Skipped
 * executions (conditions failed) do not count: a hit is a rule that acted.
 */
export async function countHits(p: Principal, ruleIds: readonly string[], since: Date): Promise<Map<string, number>> {
  const hits = new Map<string, number>();
  if (ruleIds.length === 0) return hits;
  const match: Record<string, unknown> = {
    ruleId: { $in: ruleIds.map((id) => new Types.ObjectId(id)) },
    createdAt: { $gte: since },
    status: { $ne: 'skipped' },
  };
  if (p.corps !== '*') match.corpId = { $in: [...p.corps] };
  const rows = await ExecutionModel.aggregate<{ _id: Types.ObjectId; n: number }>([
    { $match: match },
    { $group: { _id: { ruleId: '$ruleId', corpId: '$corpId', subject: '$subject' } } },
    { $group: { _id: '$_id.ruleId', n: { $sum: 1 } } },
  ]);
  for (const row of rows) hits.set(String(row._id), row.n);
  return hits;
}

/** The list with `hitsThisMonth` (customers reached this month) on every rule. */
export async function withMonthlyHits(p: Principal, rules: RuleView[], since: Date): Promise<RuleListItem[]> {
  const hits = await countHits(
    p,
    rules.map((r) => r.id),
    since,
  );
  return rules.map((r) => ({ ...r, hitsThisMonth: hits.get(r.id) ?? 0 }));
}
