import { Types } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import { BroadcastModel } from '../broadcasts/broadcast.model.js';
import { HOLDOUT_REASON } from '../rules/holdout.js';
import { ExecutionModel } from '../rules/engine/execution.model.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { TaskModel } from '../tasks/task.model.js';
import type { OutcomeType } from './outcome-input.js';
import { OutcomeModel } from './outcome.model.js';
import { loadOutcomeSettings } from './outcome-settings.js';
import { upliftInterval, wilsonInterval, type Uplift } from './uplift.js';

export interface GroupFigures {
  customers: number;
  withOutcome: number;
  rate: number;
  rateLow: number;
  rateHigh: number;
  revenue: number;
  revenuePerCustomer: number;
}

export interface CampaignReport {
  ruleId: string;
  corpId: string;
  windowDays: number;
  outcomeTypes: string[];
  treated: GroupFigures;
  heldOut: GroupFigures;
  uplift?: Uplift;
  /** Plain words for the console: significant or not yet. */
  verdict: 'uplift' | 'harm' | 'not_significant' | 'no_control_group';
}

const DEFAULT_TYPES: OutcomeType[] = ['repair_order', 'insurance_policy', 'vehicle_sale'];

/**
 * Treated versus held-out customers of one rule in one corp (docs/outcomes.md, "Holdout and
 * uplift"). A customer enters a group when the rule first reached them: an execution that ran or a
 * follow-up task of the rule (treated), an execution skipped as holdout (held out). Each counts
 * once, with an outcome if an active outcome of the given types occurred within `windowDays` of
 * entering; revenue sums those outcomes.
 */
export async function campaignReport(
  corpId: string,
  ruleId: string,
  opts: { windowDays?: number; types?: OutcomeType[] } = {},
): Promise<CampaignReport> {
  const rid = new Types.ObjectId(ruleId);
  const settings = await loadOutcomeSettings(corpId);
  const windowDays = opts.windowDays ?? settings.windows.service;
  const types = opts.types?.length ? opts.types : DEFAULT_TYPES;
  const [executions, tasks] = await Promise.all([
    ExecutionModel.find(
      { corpId, ruleId: rid, status: { $in: ['done', 'skipped'] } },
      { subject: 1, status: 1, reason: 1, triggerAt: 1, createdAt: 1 },
    ).lean(),
    TaskModel.find({ corpId, ruleId: rid }, { customerId: 1, createdAt: 1 }).lean(),
  ]);
  const entered = new Map<string, { at: Date; heldOut: boolean }>();
  const enter = (customerId: string, at: Date, heldOut: boolean) => {
    const prev = entered.get(customerId);
    if (!prev || at < prev.at) entered.set(customerId, { at, heldOut: prev?.heldOut ?? heldOut });
  };
  for (const e of executions) {
    if (!Types.ObjectId.isValid(e.subject) || e.subject.startsWith('ext:')) continue;
    const heldOut = e.status === 'skipped' && e.reason === HOLDOUT_REASON;
    if (e.status === 'skipped' && !heldOut) continue; // conditions failed: in neither group
    // The occurrence's own time; records from before it was stored fall back to their creation.
    enter(e.subject, e.triggerAt ?? (e as unknown as { createdAt: Date }).createdAt, heldOut);
  }
  for (const t of tasks) enter(String(t.customerId), t.createdAt, false);
  return {
    ruleId,
    corpId,
    windowDays,
    outcomeTypes: types,
    ...(await compareGroups(corpId, entered, windowDays, types)),
  };
}

export interface BroadcastReport extends Omit<CampaignReport, 'ruleId'> {
  broadcastId: string;
}

/**
 * Treated versus held-out customers of one broadcast (docs/engagement.md, "Broadcasts"): treated
 * are the customers WeCom reported the send to (entering at the send time), held out those the
 * broadcast's holdout share kept out (recorded `cancelled` with reason holdout, entering when the
 * broadcast was sent); customers not reached (not a friend, unconfirmed) are in neither group.
 */
export async function broadcastReport(
  corpId: string,
  broadcastId: string,
  opts: { windowDays?: number; types?: OutcomeType[] } = {},
): Promise<BroadcastReport> {
  const settings = await loadOutcomeSettings(corpId);
  const windowDays = opts.windowDays ?? settings.windows.service;
  const types = opts.types?.length ? opts.types : DEFAULT_TYPES;
  const bid = new Types.ObjectId(broadcastId);
  const [broadcast, rows] = await Promise.all([
    BroadcastModel.findOne({ _id: bid, corpId }, { startedAt: 1, scheduledAt: 1 }).lean(),
    MessageRecipientModel.find(
      { corpId, broadcastId: bid, $or: [{ status: 'sent' }, { status: 'cancelled', reason: HOLDOUT_REASON }] },
      { customerId: 1, status: 1, sentAt: 1 },
    ).lean(),
  ]);
  // The held out enter when the others were handed to their advisors (the broadcast's start).
  const startedAt = broadcast?.startedAt ?? broadcast?.scheduledAt ?? new Date(0);
  const entered = new Map<string, { at: Date; heldOut: boolean }>();
  for (const r of rows)
    entered.set(String(r.customerId), {
      at: r.status === 'sent' ? (r.sentAt ?? startedAt) : startedAt,
      heldOut: r.status === 'cancelled',
    });
  return {
    broadcastId,
    corpId,
    windowDays,
    outcomeTypes: types,
    ...(await compareGroups(corpId, entered, windowDays, types)),
  };
}

/** The outcome rates of the treated and held-out customers, with the uplift between them. */
async function compareGroups(
  corpId: string,
  entered: ReadonlyMap<string, { at: Date; heldOut: boolean }>,
  windowDays: number,
  types: readonly OutcomeType[],
): Promise<Pick<CampaignReport, 'treated' | 'heldOut' | 'uplift' | 'verdict'>> {
  const ids = [...entered.keys()].map((id) => new Types.ObjectId(id));
  const outcomes =
    ids.length === 0
      ? []
      : await OutcomeModel.find(
          { corpId, customerId: { $in: ids }, status: 'active', type: { $in: [...types] } },
          { customerId: 1, occurredAt: 1, revenue: 1 },
        ).lean();
  const byCustomer = new Map<string, Array<{ occurredAt: Date; revenue: number }>>();
  for (const o of outcomes) {
    const key = String(o.customerId);
    byCustomer.set(key, [...(byCustomer.get(key) ?? []), { occurredAt: o.occurredAt, revenue: o.revenue }]);
  }
  const acc = {
    treated: { customers: 0, withOutcome: 0, revenue: 0 },
    heldOut: { customers: 0, withOutcome: 0, revenue: 0 },
  };
  for (const [customerId, { at, heldOut }] of entered) {
    const g = heldOut ? acc.heldOut : acc.treated;
    g.customers++;
    const end = dayjs(at).add(windowDays, 'day').toDate();
    const inWindow = (byCustomer.get(customerId) ?? []).filter((o) => o.occurredAt >= at && o.occurredAt <= end);
    if (inWindow.length > 0) g.withOutcome++;
    g.revenue += inWindow.reduce((s, o) => s + o.revenue, 0);
  }
  const figures = (g: { customers: number; withOutcome: number; revenue: number }): GroupFigures => {
    const w = wilsonInterval(g.withOutcome, g.customers);
    return {
      ...g,
      revenue: Math.round(g.revenue * 100) / 100,
      rate: g.customers ? g.withOutcome / g.customers : 0,
      rateLow: w.low,
      rateHigh: w.high,
      revenuePerCustomer: g.customers ? Math.round((g.revenue / g.customers) * 100) / 100 : 0,
    };
  };
  const uplift = upliftInterval(
    { successes: acc.treated.withOutcome, n: acc.treated.customers },
    { successes: acc.heldOut.withOutcome, n: acc.heldOut.customers },
  );
  const verdict = !uplift
    ? 'no_control_group'
    : !uplift.significant
      ? 'not_significant'
      : uplift.low > 0
        ? 'uplift'
        : 'harm';
  return {
    treated: figures(acc.treated),
    heldOut: figures(acc.heldOut),
    uplift,
    verdict,
  };
}
