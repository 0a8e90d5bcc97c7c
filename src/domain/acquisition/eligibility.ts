import { AdvisorModel } from '../customers/advisor.model.js';
import type { TaskSettings } from '../tasks/task-settings.js';
import { inWorkingHours } from '../tasks/working-hours.js';
import type { AcquisitionSettings } from './acquisition-settings.js';
import { AdvisorAvailabilityModel } from './channel.model.js';
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

/**
 * Who may take a lead (or sit on a team code) now (docs/acquisition.md "Routing"): active members
 * of the candidates, not marked off shift, not on leave, under their open-lead cap; in working
 * hours everyone on shift, outside them only advisors marked on duty.
 */
export async function eligibleAdvisors(ctx: EligibilityContext, candidates: string[]): Promise<EligibleAdvisor[]> {
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
  const counts = await openLeadCounts(ctx.corpId, ids);
  const inHours = inWorkingHours(ctx.at, ctx.workingHours, ctx.timeZone);
  const out: EligibleAdvisor[] = [];
  for (const userid of ids) {
    const a = avail.get(userid);
    if (a?.offShift) continue;
    if (a?.leaveUntil && a.leaveUntil.getTime() > ctx.at.getTime()) continue;
    if (!inHours && !a?.onDuty) continue;
    const cap = a?.leadCap ?? ctx.settings.defaultLeadCap;
    const open = counts.get(userid) ?? 0;
    if (open >= cap) continue;
    out.push({ userid, open, cap, lastLeadAt: a?.lastLeadAt?.getTime() ?? 0 });
  }
  return out;
}

/** Least open leads first, then whoever got a lead longest ago (round-robin), then userid. */
export function pickAdvisor(eligible: EligibleAdvisor[]): EligibleAdvisor | undefined {
  return [...eligible].sort(
    (a, b) => a.open - b.open || a.lastLeadAt - b.lastLeadAt || a.userid.localeCompare(b.userid),
  )[0];
}
