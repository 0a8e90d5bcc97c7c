import { AdvisorModel } from '../customers/advisor.model.js';
import type { TaskSettings } from '../tasks/task-settings.js';
import { inWorkingHours } from '../tasks/working-hours.js';
import type { AcquisitionSettings } from './acquisition-settings.js';
import { AdvisorAvailabilityModel } from './channel.model.js';
import type { Available } from './lead-counters.js';
import { LeadModel, OPEN_LEAD_STAGES } from './lead.model.js';

export interface EligibleAdvisor {
  userid: string;
  open: number;
  cap: number;
  lastLeadAt: number;
}

export interface EligibilityContext {
  corpId: string;
  at: Date;
  workingHours: TaskSettings['workingHours'];
  timeZone: string;
  settings: AcquisitionSettings;
}

/** Open leads per advisor among `userids`. */
export async function openLeadCounts(corpId: string, userids: string[]): Promise<Map<string, number>> {
  const rows = await LeadModel.aggregate<{ _id: string; n: number }>([
    { $match: { corpId, advisorUserid: { $in: userids }, stage: { $in: [...OPEN_LEAD_STAGES] } } },
    { $group: { _id: '$advisorUserid', n: { $sum: 1 } } },
  ]);
  return new Map(rows.map((r) => [r._id, r.n]));
}

/** One advisor's availability as routing reads it (docs/acquisition.md "Routing"). */
interface AvailableAdvisor extends Available {
  lastLeadAt: number;
}

/**
 * Who may take a lead now, before counting their open leads: active members of the candidates,
 * not marked off shift, not on leave; in working hours everyone on shift, outside them only
 * advisors marked on duty. Each with their cap (the availability record's, else the corp's).
 */
export async function availableAdvisors(ctx: EligibilityContext, candidates: string[]): Promise<AvailableAdvisor[]> {
  if (candidates.length === 0) return [];
  const active = await AdvisorModel.find(
    { corpId: ctx.corpId, userid: { $in: candidates }, status: 'active' },
    { userid: 1 },
  ).lean();
  const ids = active.map((a) => a.userid);
  const avail = new Map(
    (await AdvisorAvailabilityModel.find({ corpId: ctx.corpId, userid: { $in: ids } }).lean()).map((a) => [
      a.userid,
      a,
    ]),
  );
  const inHours = inWorkingHours(ctx.at, ctx.workingHours, ctx.timeZone);
  const out: AvailableAdvisor[] = [];
  for (const userid of ids) {
    const a = avail.get(userid);
    if (a?.offShift) continue;
    if (a?.leaveUntil && a.leaveUntil.getTime() > ctx.at.getTime()) continue;
    if (!inHours && !a?.onDuty) continue;
    out.push({ userid, cap: a?.leadCap ?? ctx.settings.defaultLeadCap, lastLeadAt: a?.lastLeadAt?.getTime() ?? 0 });
  }
  return out;
}

/**
 * Who may take a lead (or sit on a team code) now (docs/acquisition.md "Routing"): the available
 * advisors (above) under their open-lead cap, counted in MongoDB.
 */
export async function eligibleAdvisors(ctx: EligibilityContext, candidates: string[]): Promise<EligibleAdvisor[]> {
  const available = await availableAdvisors(ctx, candidates);
  const counts = await openLeadCounts(
    ctx.corpId,
    available.map((a) => a.userid),
  );
  return available.map((a) => ({ ...a, open: counts.get(a.userid) ?? 0 })).filter((a) => a.open < a.cap);
}
