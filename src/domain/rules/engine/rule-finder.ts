import type { Types } from 'mongoose';
import { RuleModel, type RuleDocument } from '../rule.model.js';
import type { RuleBody, TriggerType } from '../rule.schema.js';

/** An enabled rule as the engine runs it. */
export interface ActiveRule {
  id: string;
  version: number;
  body: RuleBody;
}

/** Whether `now` is inside the rule's active window. */
export function inActiveWindow(body: Pick<RuleBody, 'activeFrom' | 'activeUntil'>, now: Date): boolean {
  if (body.activeFrom && Date.parse(body.activeFrom) > now.getTime()) return false;
  if (body.activeUntil && Date.parse(body.activeUntil) <= now.getTime()) return false;
  return true;
}

/**
 * Enabled, undeleted rules for a trigger in a corp: the corp's own plus all-corps rules the corp
 * did not switch off, highest priority first (ties: oldest first); the active window is not
 * applied (callers filter with `inActiveWindow`, so a cached list stays right as time passes).
 */
export async function loadEnabledRules(
  corpId: string,
  triggerType: TriggerType,
  opts: { welcomeOnly?: boolean } = {},
): Promise<ActiveRule[]> {
  const docs = (await RuleModel.find({
    triggerType,
    enabled: true,
    deletedAt: { $exists: false },
    $or: [{ scope: 'all', disabledCorps: { $ne: corpId } }, { scope: corpId }],
    ...(opts.welcomeOnly ? { welcome: true } : {}),
  })
    .sort({ priority: -1, _id: 1 })
    .lean()) as Array<RuleDocument & { _id: Types.ObjectId }>;
  return docs.map((d) => ({ id: String(d._id), version: d.version, body: d.body as RuleBody }));
}

/** The enabled rules for a trigger in a corp that are inside their active window at `now`. */
export async function findActiveRules(
  corpId: string,
  triggerType: TriggerType,
  now: Date,
  opts: { welcomeOnly?: boolean } = {},
): Promise<ActiveRule[]> {
  return (await loadEnabledRules(corpId, triggerType, opts)).filter((r) => inActiveWindow(r.body, now));
}

/** One rule by id if it is still enabled in this corp (a schedule fires only for live rules). */
export async function findLiveRule(corpId: string, ruleId: string, now: Date): Promise<ActiveRule | undefined> {
  const d = (await RuleModel.findOne({
    _id: ruleId,
    enabled: true,
    deletedAt: { $exists: false },
    $or: [{ scope: 'all', disabledCorps: { $ne: corpId } }, { scope: corpId }],
  }).lean()) as (RuleDocument & { _id: Types.ObjectId }) | null;
  if (!d || !inActiveWindow(d.body as RuleBody, now)) return undefined;
  return { id: String(d._id), version: d.version, body: d.body as RuleBody };
}
