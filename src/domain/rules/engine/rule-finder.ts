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
/**
 * Where enabled rules can come from besides MongoDB: the per-process cache of corp reads
 * (src/domain/corps/corp-read-cache.ts) implements it; declared here so the cache depends on the
 * rules, not the other way round.
 */
export interface EnabledRulesSource {
  /** Enabled rules for a trigger, highest priority first; the active window is not applied. */
  enabledRules(corpId: string, triggerType: TriggerType): Promise<ActiveRule[]>;
}

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

/**
 * Every enabled, undeleted rule of a corp (all triggers) in the order of `loadEnabledRules`, with
 * its trigger type: what the worker's cache holds per corp (src/domain/corps/corp-read-cache.ts).
 */
export async function loadEnabledRulesOfCorp(corpId: string): Promise<Array<ActiveRule & { triggerType: string }>> {
  const docs = (await RuleModel.find(
    {
      enabled: true,
      deletedAt: { $exists: false },
      $or: [{ scope: 'all', disabledCorps: { $ne: corpId } }, { scope: corpId }],
    },
    { version: 1, body: 1, triggerType: 1, priority: 1 },
  )
    .sort({ priority: -1, _id: 1 })
    .lean()) as Array<RuleDocument & { _id: Types.ObjectId }>;
  return docs.map((d) => ({
    id: String(d._id),
    version: d.version,
    body: d.body as RuleBody,
    triggerType: d.triggerType,
  }));
}

/**
 * The enabled rules for a trigger in a corp that are inside their active window at `now`; from
 * the worker's cache when `reads` is given (not for the welcome-only list, which has its own).
 */
export async function findActiveRules(
  corpId: string,
  triggerType: TriggerType,
  now: Date,
  opts: { welcomeOnly?: boolean; reads?: EnabledRulesSource } = {},
): Promise<ActiveRule[]> {
  const rules =
    opts.reads && !opts.welcomeOnly
      ? await opts.reads.enabledRules(corpId, triggerType)
      : await loadEnabledRules(corpId, triggerType, opts);
  return rules.filter((r) => inActiveWindow(r.body, now));
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
