import type { Caller } from '../call-spec.js';
import type { WecomBaseResponse } from '../http.js';

/** `user/get` for a self-built app created after 2022-06-20 (docs/wecom.md §3.14): no mobile/email/avatar. */
export interface GetUserResponse extends WecomBaseResponse {
  userid: string;
  name: string;
  department: number[];
  order?: number[];
  position?: string;
  is_leader_in_dept?: number[];
  direct_leader?: string[];
  main_department?: number;
  /** 1 active, 2 disabled, 4 not activated, 5 left. */
  status: number;
  alias?: string;
}

export interface SimpleListResponse extends WecomBaseResponse {
  userlist: Array<{ userid: string; name: string; department: number[]; open_userid?: string }>;
}

export interface DepartmentSimpleListResponse extends WecomBaseResponse {
  department_id: Array<{ id: number; parentid: number; order: number }>;
}

/** A member gets `userid` (+ `user_ticket`); a non-member gets `openid` / `external_userid`. */
export interface GetUserInfoByCodeResponse extends WecomBaseResponse {
  userid?: string;
  user_ticket?: string;
  openid?: string;
  external_userid?: string;
}

/** Members, departments and web sign-in (docs/wecom.md §3.14, §8). */
export function directoryApi(call: Caller) {
  return {
    /** `GET user/get`: only members inside the visible range (60011 otherwise). */
    getUser: (userid: string) => call<GetUserResponse>({ endpoint: 'user/get', method: 'GET', query: { userid } }),
    /** `GET user/simplelist`: not recursive. */
    listUsersSimple: (departmentId: number) =>
      call<SimpleListResponse>({ endpoint: 'user/simplelist', method: 'GET', query: { department_id: departmentId } }),
    /** `GET department/simplelist`: recursive below `id` (all when omitted). */
    listDepartmentsSimple: (id?: number) =>
      call<DepartmentSimpleListResponse>({ endpoint: 'department/simplelist', method: 'GET', query: { id } }),
    /** `GET auth/getuserinfo` (docs/wecom.md §8): exchanges a single-use 5-minute OAuth code. */
    getUserInfoByCode: (code: string) =>
      call<GetUserInfoByCodeResponse>({ endpoint: 'auth/getuserinfo', method: 'GET', query: { code } }),
  };
}
