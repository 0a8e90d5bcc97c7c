import { WecomApiError } from '../../wecom/errors.js';
import type { GetUserResponse } from '../../wecom/endpoints/directory.js';
import type { CustomerDeps } from './customer-deps.js';
import { AdvisorModel } from './advisor.model.js';
import { RelationshipModel } from './relationship.model.js';

type Deps = Pick<CustomerDeps, 'corpId' | 'api' | 'clock' | 'logger'>;

/** WeCom member status → ours (docs/wecom.md §2.5: 1 active, 2 disabled, 4 not activated, 5 left). */
export function advisorStatusOf(wecomStatus: number | undefined): 'active' | 'disabled' | 'left' {
  if (wecomStatus === 5) return 'left';
  if (wecomStatus === 2) return 'disabled';
  return 'active';
}

/**
 * Upserts one member from `user/get` (the reduced `change_contact` payloads carry too little,
 * so the handler always refetches). A member who left is flagged so their open work is
 * transferred (docs/architecture.md §4). Returns the stored status, or `left` when WeCom no longer knows them.
 */
export async function syncAdvisor(deps: Deps, userid: string): Promise<'active' | 'disabled' | 'left'> {
  let user: GetUserResponse | undefined;
  try {
    user = await deps.api.getUser(userid);
  } catch (err) {
    // 60111: deleted from the directory. Treat as left rather than failing forever.
    if (!(err instanceof WecomApiError && err.errcode === 60111)) throw err;
  }
  return user ? upsertAdvisor(deps, user) : markAdvisorLeft(deps, userid);
}

export async function upsertAdvisor(
  deps: Deps,
  user: Pick<GetUserResponse, 'userid' | 'name' | 'department' | 'is_leader_in_dept' | 'direct_leader' | 'status'>,
): Promise<'active' | 'disabled' | 'left'> {
  const status = advisorStatusOf(user.status);
  if (status === 'left') return markAdvisorLeft(deps, user.userid);
  const departments = user.department ?? [];
  const leads = departments.filter((_, i) => user.is_leader_in_dept?.[i] === 1);
  const now = deps.clock.now();
  await AdvisorModel.updateOne(
    { corpId: deps.corpId, userid: user.userid },
    {
      $set: {
        name: user.name,
        departments,
        leadsDepartments: leads,
        directLeaders: user.direct_leader ?? [],
        status,
        syncedAt: now,
      },
    },
    { upsert: true },
  );
  return status;
}

/** Marks a member as left; flags them for transfer when customers still follow them. */
export async function markAdvisorLeft(deps: Deps, userid: string): Promise<'left'> {
  const now = deps.clock.now();
  const followers = await RelationshipModel.countDocuments({ corpId: deps.corpId, userid, status: 'active' });
  const result = await AdvisorModel.updateOne(
    { corpId: deps.corpId, userid, status: { $ne: 'left' } },
    { $set: { status: 'left', statusChangedAt: now, needsTransfer: followers > 0, syncedAt: now } },
    { upsert: true },
  );
  if (result.modifiedCount > 0 || result.upsertedCount > 0) {
    deps.logger.warn(
      { corpId: deps.corpId, userid, activeCustomers: followers, alert: followers > 0 },
      'advisor left; their customers need a resigned transfer',
    );
  }
  return 'left';
}

/**
 * Full directory refresh through the API (`department/simplelist` + `user/simplelist` + `user/get`),
 * for corps without contact-sync callbacks (daily job) and for `npm run sync`.
 */
export async function refreshDirectory(deps: Deps): Promise<{ members: number; left: number }> {
  const { department_id: departments } = await deps.api.listDepartmentsSimple();
  const seen = new Set<string>();
  for (const dept of departments) {
    const { userlist } = await deps.api.listUsersSimple(dept.id);
    for (const member of userlist) {
      if (seen.has(member.userid)) continue;
      seen.add(member.userid);
      await syncAdvisor(deps, member.userid);
    }
  }
  // Members we hold as active that the directory no longer lists have left.
  const known = await AdvisorModel.find({ corpId: deps.corpId, status: { $ne: 'left' } }, { userid: 1 }).lean();
  let left = 0;
  for (const advisor of known) {
    if (!seen.has(advisor.userid)) {
      await markAdvisorLeft(deps, advisor.userid);
      left++;
    }
  }
  return { members: seen.size, left };
}

/**
 * The userids to notify about an advisor's customer: their direct leaders, else their
 * departments' leaders. A member the directory does not hold yet is fetched first.
 */
export async function leadersOf(deps: Deps, userid: string): Promise<string[]> {
  const corpId = deps.corpId;
  let advisor = await AdvisorModel.findOne({ corpId, userid }).lean();
  if (!advisor) {
    await syncAdvisor(deps, userid);
    advisor = await AdvisorModel.findOne({ corpId, userid }).lean();
  }
  if (!advisor) return [];
  if (advisor.directLeaders.length > 0) return advisor.directLeaders.filter((id) => id !== userid);
  const leaders = await AdvisorModel.find(
    { corpId, leadsDepartments: { $in: advisor.departments }, status: 'active', userid: { $ne: userid } },
    { userid: 1 },
  ).lean();
  return leaders.map((l) => l.userid);
}
