import { corpFilter, type Principal } from '../auth/principal.js';
import { AdvisorModel } from './advisor.model.js';

/**
 * Read-only queries on the member directory (advisors) that the admin API, the console and the
 * task and transfer routes share (docs/architecture.md §10).
 */

/** Userids in the manager's departments (the manager included). */
export async function managedAdvisors(p: Principal): Promise<string[]> {
  const rows = await AdvisorModel.find(
    { ...corpFilter(p), departments: { $in: [...(p.departments ?? [])] } },
    { userid: 1 },
  ).lean();
  return [...rows.map((r) => r.userid), ...(p.userid ? [p.userid] : [])];
}

/** Userids of the members of a WeCom department, within the principal's corps (and one corp when given). */
export async function advisorsInDepartment(p: Principal, department: number, corpId?: string): Promise<string[]> {
  const members = await AdvisorModel.find(
    { ...corpFilter(p), ...(corpId ? { corpId } : {}), departments: department },
    { userid: 1 },
  )
    .limit(5000)
    .lean();
  return members.map((m) => m.userid);
}

export interface AdvisorRow {
  corpId: string;
  userid: string;
  name?: string | null;
  departments: number[];
  status: string;
}

/** Members a principal may pick (a manager's departments; every member for corp-wide roles). */
export async function pickableAdvisors(p: Principal, corpId?: string): Promise<AdvisorRow[]> {
  const team = p.role === 'manager' ? { userid: { $in: await managedAdvisors(p) } } : {};
  const projection = { corpId: 1, userid: 1, name: 1, departments: 1, status: 1 };
  return AdvisorModel.find({ ...corpFilter(p), ...(corpId ? { corpId } : {}), ...team }, projection)
    .sort({ corpId: 1, userid: 1 })
    .limit(2000)
    .lean();
}

/** The departments an active member belongs to, or null when the member is not active in the corp. */
export async function activeAdvisorDepartments(corpId: string, userid: string): Promise<number[] | null> {
  const advisor = await AdvisorModel.findOne({ corpId, userid, status: 'active' }, { departments: 1 }).lean();
  return advisor ? advisor.departments : null;
}

/** What console sign-in needs of a member: the departments they lead and their status (null: not in the directory). */
export async function advisorStanding(
  corpId: string,
  userid: string,
): Promise<{ leadsDepartments: number[]; status: string } | null> {
  return AdvisorModel.findOne({ corpId, userid }, { leadsDepartments: 1, status: 1 }).lean();
}

/** A member's work name, if the directory has one. */
export async function advisorName(corpId: string, userid: string): Promise<string | undefined> {
  return (await AdvisorModel.findOne({ corpId, userid }, { name: 1 }).lean())?.name ?? undefined;
}
