import { dayjs } from '../../infra/clock.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import type { TaskSettings } from '../tasks/task-settings.js';
import { inWorkingHours, nextWorkingTime } from '../tasks/working-hours.js';
import type { AcquisitionSettings } from './acquisition-settings.js';
import { AdvisorAvailabilityModel } from './channel.model.js';
import { eligibleAdvisors, pickAdvisor } from './eligibility.js';
import type { LeadSource } from './lead.model.js';

export interface RoutingContext {
  corpId: string;
  timeZone: string;
  workingHours: TaskSettings['workingHours'];
  settings: AcquisitionSettings;
}

export type RoutingDecision =
  | { kind: 'assigned'; advisorUserid: string; rule: string; onDuty: boolean; slaDueAt: Date }
  | { kind: 'waiting'; rule: string; routeAt: Date; reason: 'outside_hours' | 'nobody_eligible' | 'no_rule' };

/** Leads nobody can take now are tried again this much later (the manager sees them meanwhile). */
const RETRY_MINUTES = 5;

/** The advisors a rule names: members of its departments and its named advisors. */
async function candidatesOf(
  corpId: string,
  rule: { departments: number[]; advisors: string[] } | undefined,
): Promise<string[]> {
  if (!rule) return (await AdvisorModel.find({ corpId, status: 'active' }, { userid: 1 }).lean()).map((a) => a.userid);
  const members = rule.departments.length
    ? await AdvisorModel.find(
        { corpId, departments: { $in: rule.departments }, status: 'active' },
        { userid: 1 },
      ).lean()
    : [];
  return [...new Set([...members.map((m) => m.userid), ...rule.advisors])];
}

/** The first rule matching the lead's source, model and the time of day. */
export function matchRule(
  settings: AcquisitionSettings,
  lead: { source: LeadSource; model?: string | null },
  inHours: boolean,
): AcquisitionSettings['rules'][number] | undefined {
  return settings.rules.find((r) => {
    if (r.sources && !r.sources.includes(lead.source)) return false;
    if (r.models && !r.models.some((m) => (lead.model ?? '').toLowerCase().includes(m.toLowerCase()))) return false;
    if (r.hours === 'in' && !inHours) return false;
    if (r.hours === 'out' && inHours) return false;
    return true;
  });
}

/** First contact due: SLA minutes after the lead reaches someone who can answer (docs/acquisition.md "SLA"). */
export function slaDue(ctx: RoutingContext, assignedAt: Date, onDuty: boolean): Date {
  const start = onDuty ? assignedAt : nextWorkingTime(assignedAt, ctx.workingHours, ctx.timeZone);
  return dayjs.utc(start).add(ctx.settings.slaMinutes, 'minute').toDate();
}

/**
 * Routes one lead (docs/acquisition.md "Routing"): the corp's first matching rule names a pool
 * (departments, advisors; no rules at all = every active member); within it the eligible advisor
 * with the fewest open leads wins, ties going to whoever got a lead longest ago (round-robin).
 * Outside working hours only advisors marked on duty qualify (when the corp allows it); otherwise
 * the lead waits for the next start. `exclude` keeps a lead from going back to the advisor it is
 * being taken from.
 */
export async function routeLead(
  ctx: RoutingContext,
  lead: { source: LeadSource; model?: string | null },
  at: Date,
  exclude: string[] = [],
): Promise<RoutingDecision> {
  const inHours = inWorkingHours(at, ctx.workingHours, ctx.timeZone);
  const rule = matchRule(ctx.settings, lead, inHours);
  const ruleName = rule?.name ?? (ctx.settings.rules.length ? 'none' : 'default');
  if (!rule && ctx.settings.rules.length > 0)
    return {
      kind: 'waiting',
      rule: ruleName,
      routeAt: dayjs.utc(at).add(RETRY_MINUTES, 'minute').toDate(),
      reason: 'no_rule',
    };
  if (!inHours && !ctx.settings.onDutyOutsideHours) {
    return {
      kind: 'waiting',
      rule: ruleName,
      routeAt: nextWorkingTime(at, ctx.workingHours, ctx.timeZone),
      reason: 'outside_hours',
    };
  }
  const candidates = (await candidatesOf(ctx.corpId, rule)).filter((u) => !exclude.includes(u));
  const chosen = pickAdvisor(await eligibleAdvisors({ ...ctx, at }, candidates));
  if (!chosen) {
    const routeAt = inHours
      ? dayjs.utc(at).add(RETRY_MINUTES, 'minute').toDate()
      : nextWorkingTime(at, ctx.workingHours, ctx.timeZone);
    return { kind: 'waiting', rule: ruleName, routeAt, reason: inHours ? 'nobody_eligible' : 'outside_hours' };
  }
  await AdvisorAvailabilityModel.updateOne(
    { corpId: ctx.corpId, userid: chosen.userid },
    { $set: { lastLeadAt: at } },
    { upsert: true },
  );
  return {
    kind: 'assigned',
    advisorUserid: chosen.userid,
    rule: ruleName,
    onDuty: !inHours,
    slaDueAt: slaDue(ctx, at, !inHours),
  };
}

/** One routing at a time per corp in this process, so open-lead counts are read after the last write. */
const chains = new Map<string, Promise<unknown>>();
export function serializePerCorp<T>(corpId: string, fn: () => Promise<T>): Promise<T> {
  const prev = chains.get(corpId) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  chains.set(corpId, tail);
  void tail.then(() => {
    if (chains.get(corpId) === tail) chains.delete(corpId);
  });
  return next;
}
