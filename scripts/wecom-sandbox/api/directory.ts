import { ApiFault } from '../server/api-fault.js';
import type { ApiRoutes } from '../server/context.js';
import type { CorpWorld, Department } from '../world/model.js';
import { visibleMember } from './helpers.js';

/** OAuth codes (docs/wecom.md §8): single use, 5 minutes. */
export const OAUTH_CODE_TTL_MS = 5 * 60_000;

function subtree(corp: CorpWorld, rootId: number): Department[] {
  const out: Department[] = [];
  const walk = (id: number) => {
    const d = corp.departments.find((x) => x.id === id);
    if (!d) return;
    out.push(d);
    for (const child of corp.departments.filter((x) => x.parentid === id)) walk(child.id);
  };
  walk(rootId);
  return out;
}

/** Members, departments and the OAuth code exchange (docs/wecom.md §3.14, §8). */
export const directoryRoutes: ApiRoutes = {
  'user/get': {
    method: 'GET',
    handler: ({ corp, query }) => {
      const m = visibleMember(corp, query.userid);
      return {
        userid: m.userid,
        name: m.name,
        department: m.department,
        order: m.department.map(() => 0),
        position: m.position,
        is_leader_in_dept: m.isLeaderInDept,
        direct_leader: m.directLeader,
        main_department: m.mainDepartment,
        status: m.status,
      };
    },
  },
  'user/simplelist': {
    method: 'GET',
    handler: ({ corp, query }) => {
      const id = Number(query.department_id ?? '1');
      if (!corp.departments.some((d) => d.id === id)) throw new ApiFault(60123, 'invalid department id');
      return {
        userlist: corp.members
          .filter((m) => m.visible && m.department.includes(id))
          .map((m) => ({ userid: m.userid, name: m.name, department: m.department })),
      };
    },
  },
  'department/simplelist': {
    method: 'GET',
    handler: ({ corp, query }) => {
      const roots = query.id
        ? [Number(query.id)]
        : corp.departments.filter((d) => !corp.departments.some((p) => p.id === d.parentid)).map((d) => d.id);
      if (query.id && !corp.departments.some((d) => d.id === Number(query.id)))
        throw new ApiFault(60123, 'invalid department id');
      return {
        department_id: roots
          .flatMap((r) => subtree(corp, r))
          .map((d) => ({ id: d.id, parentid: d.parentid, order: d.order })),
      };
    },
  },
  'auth/getuserinfo': {
    method: 'GET',
    handler: ({ corp, query, sb }) => {
      const code = corp.oauthCodes.find((c) => c.code === query.code);
      if (!code || code.used || sb.clock.nowMs() - code.issuedAtMs > OAUTH_CODE_TTL_MS)
        throw new ApiFault(40029, 'invalid code');
      code.used = true;
      return { userid: code.userid, user_ticket: `ticket-${code.code.slice(0, 12)}` };
    },
  },
};
