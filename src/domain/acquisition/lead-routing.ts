import { dayjs } from '../../infra/clock.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import type { TaskSettings } from '../tasks/task-settings.js';
import { inWorkingHours, nextWorkingTime } from '../tasks/working-hours.js';
import type { AcquisitionSettings } from './acquisition-settings.js';
import type { Queues } from '../../queues/queue-factory.js';
import { AdvisorAvailabilityModel } from './channel.model.js';
import { availableAdvisors } from './eligibility.js';
import { pickAdvisors } from './lead-counters.js';
import type { LeadSource } from './lead.model.js';

export interface RoutingContext {
  corpId: string;
  timeZone: string;
  workingHours: TaskSettings['workingHours'];
  settings: AcquisitionSettings;
  /** Open-lead counters live in Redis next to the queues' keys (lead-counters.ts). */
  queues: Queues;
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
export function slaDue(
  ctx: Pick<RoutingContext, 'timeZone' | 'workingHours' | 'settings'>,
  assignedAt: Date,
  onDuty: boolean,
): Date {
  // A batch assigns its leads at one moment: the time-zone arithmetic is done once (kept below).
  const l = lastSlaDue;
  if (
    l &&
    l.at === assignedAt.getTime() &&
    l.onDuty === onDuty &&
    l.zone === ctx.timeZone &&
    l.hours === ctx.workingHours &&
    l.minutes === ctx.settings.slaMinutes
  )
    return new Date(l.value);
  const start = onDuty ? assignedAt : nextWorkingTime(assignedAt, ctx.workingHours, ctx.timeZone);
  const value = dayjs.utc(start).add(ctx.settings.slaMinutes, 'minute').valueOf();
  lastSlaDue = {
    at: assignedAt.getTime(),
    onDuty,
    zone: ctx.timeZone,
    hours: ctx.workingHours,
    minutes: ctx.settings.slaMinutes,
    value,
  };
  return new Date(value);
}
let lastSlaDue:
  | { at: number; onDuty: boolean; zone: string; hours: TaskSettings['workingHours']; minutes: number; value: number }
  | undefined;

/** The last answer, kept: a batch of leads routes at one moment, and a time-zone conversion is costly. */
let lastInHours: { at: number; zone: string; hours: TaskSettings['workingHours']; value: boolean } | undefined;
function inHoursAt(ctx: Pick<RoutingContext, 'timeZone' | 'workingHours'>, at: Date): boolean {
  const l = lastInHours;
  if (l && l.at === at.getTime() && l.zone === ctx.timeZone && l.hours === ctx.workingHours) return l.value;
  const value = inWorkingHours(at, ctx.workingHours, ctx.timeZone);
  lastInHours = { at: at.getTime(), zone: ctx.timeZone, hours: ctx.workingHours, value };
  return value;
}

/**
 * Routes one lead (docs/acquisition.md "Routing"): the corp's first matching rule names a pool
 * (departments, advisors; no rules at all = every active member); within it the eligible advisor
 * with the fewest open leads wins, ties going to whoever got a lead longest ago (round-robin).
 * Outside working hours only advisors marked on duty qualify (when the corp allows it); otherwise
 * the lead waits for the next start. `exclude` keeps a lead from going back to the advisor it is
 * being taken from. An assignment is already counted in the advisor's open leads (lead-counters.ts):
 * a caller that does not store it gives the place back with `adjustLeadCount(..., -1)`.
 */
export async function routeLead(
  ctx: RoutingContext,
  lead: { source: LeadSource; model?: string | null },
  at: Date,
  exclude: string[] = [],
): Promise<RoutingDecision> {
  const inHours = inHoursAt(ctx, at);
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
  const chosen = await pickBatched({ ctx, rule, inHours, at, exclude });
  if (!chosen) {
    const routeAt = inHours
      ? dayjs.utc(at).add(RETRY_MINUTES, 'minute').toDate()
      : nextWorkingTime(at, ctx.workingHours, ctx.timeZone);
    return { kind: 'waiting', rule: ruleName, routeAt, reason: inHours ? 'nobody_eligible' : 'outside_hours' };
  }
  return {
    kind: 'assigned',
    advisorUserid: chosen,
    rule: ruleName,
    onDuty: !inHours,
    slaDueAt: slaDue(ctx, at, !inHours),
  };
}

type Rule = AcquisitionSettings['rules'][number] | undefined;

interface PickRequest {
  ctx: RoutingContext;
  rule: Rule;
  inHours: boolean;
  at: Date;
  exclude: string[];
}

interface Batch extends PickRequest {
  waiters: Array<{ resolve(userid: string | undefined): void; reject(err: unknown): void }>;
}

/** Requests gathering while the previous batch of the same pool is being picked. */
const gathering = new Map<string, Batch>();
const picking = new Set<string>();

/**
 * Batch routing (docs/acquisition.md "Routing"): leads that arrive together for the same pool
 * share one read of the pool and its availability and one atomic pick in Redis. While one batch
 * is picked, the next gathers; the pick itself (lead-counters.ts) keeps caps and fairness across
 * workers and processes, so nothing else is serialized.
 */
function pickBatched(req: PickRequest): Promise<string | undefined> {
  const key = [req.ctx.queues.prefix, req.ctx.corpId, req.rule?.name ?? '*', req.inHours, ...req.exclude].join('|');
  return new Promise((resolve, reject) => {
    let batch = gathering.get(key);
    if (!batch) {
      batch = { ...req, waiters: [] };
      gathering.set(key, batch);
    }
    batch.waiters.push({ resolve, reject });
    if (!picking.has(key)) {
      picking.add(key);
      // After the current turn: leads routed together in one call (a batch of intake) share the first pick.
      queueMicrotask(() => void drain(key));
    }
  });
}

async function drain(key: string): Promise<void> {
  try {
    for (let batch = gathering.get(key); batch; batch = gathering.get(key)) {
      gathering.delete(key);
      try {
        const picks = await pickForBatch(batch, batch.waiters.length);
        batch.waiters.forEach((w, i) => w.resolve(picks[i]));
      } catch (err) {
        for (const w of batch.waiters) w.reject(err);
      }
    }
  } finally {
    picking.delete(key);
  }
}

async function pickForBatch(req: PickRequest, leads: number): Promise<string[]> {
  const { ctx, at } = req;
  const candidates = (await candidatesOf(ctx.corpId, req.rule)).filter((u) => !req.exclude.includes(u));
  const available = await availableAdvisors({ ...ctx, at }, candidates);
  const picks = await pickAdvisors(ctx.queues, ctx.corpId, available, leads);
  const picked = [...new Set(picks)];
  if (picked.length)
    await AdvisorAvailabilityModel.bulkWrite(
      picked.map((userid) => ({
        updateOne: { filter: { corpId: ctx.corpId, userid }, update: { $set: { lastLeadAt: at } }, upsert: true },
      })),
    );
  return picks;
}
