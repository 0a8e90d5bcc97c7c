import type { Caller } from '../call-spec.js';
import type { WecomBaseResponse } from '../http.js';

/** `follow_user[].tags[]` (docs/wecom.md §6.3): type 1 corp, 2 personal (no tag_id), 3 strategy. */
export interface FollowUserTag {
  group_name: string;
  tag_name: string;
  tag_id?: string;
  type: number;
}

/** One advisor's relationship with the customer (docs/wecom.md §6.3). */
export interface FollowUser {
  userid: string;
  remark: string;
  description: string;
  createtime: number;
  tags: FollowUserTag[];
  remark_corp_name?: string;
  remark_mobiles: string[];
  /** See docs/wecom.md §6.4; store as an integer and tolerate unknown values. */
  add_way: number;
  oper_userid: string;
  state?: string;
}

export interface ExternalContact {
  external_userid: string;
  name: string;
  avatar?: string;
  /** 1 WeChat user, 2 WeCom user. */
  type: number;
  gender: number;
  unionid?: string;
  position?: string;
  corp_name?: string;
  corp_full_name?: string;
}

export interface GetExternalContactResponse extends WecomBaseResponse {
  external_contact: ExternalContact;
  follow_user: FollowUser[];
  next_cursor?: string;
}

export interface BatchGetByUserRequest {
  userid_list: string[];
  cursor?: string;
  limit?: number;
}

/** `batch/get_by_user` follow info: tag ids only, no personal tags (docs/wecom.md §3.3). */
export interface FollowInfo extends Omit<FollowUser, 'tags'> {
  tag_id: string[];
}

export interface BatchGetByUserResponse extends WecomBaseResponse {
  external_contact_list: Array<{ external_contact: ExternalContact; follow_info: FollowInfo }>;
  next_cursor: string;
  fail_info?: { unlicensed_userid_list?: string[] };
}

export interface ListExternalContactsResponse extends WecomBaseResponse {
  external_userid: string[];
}

export interface GetFollowUserListResponse extends WecomBaseResponse {
  follow_user: string[];
}

/** At least one of the optional fields must be set (docs/wecom.md §3.6). */
export interface RemarkRequest {
  userid: string;
  external_userid: string;
  remark?: string;
  description?: string;
  remark_company?: string;
  remark_mobiles?: string[];
  remark_pic_mediaid?: string;
}

/** Customer reads and remarks (docs/wecom.md §3.2–§3.6). */
export function externalContactApi(call: Caller) {
  return {
    /** `GET externalcontact/get` (docs/wecom.md §3.2). 84061/40096 are permanent. */
    getExternalContact: (externalUserId: string, cursor?: string) =>
      call<GetExternalContactResponse>({
        endpoint: 'externalcontact/get',
        method: 'GET',
        query: { external_userid: externalUserId, cursor },
      }),
    /** `POST externalcontact/batch/get_by_user` (docs/wecom.md §3.3): ≤100 userids, cursor paging. */
    batchGetByUser: (req: BatchGetByUserRequest) =>
      call<BatchGetByUserResponse>({ endpoint: 'externalcontact/batch/get_by_user', method: 'POST', json: req }),
    /** `GET externalcontact/list` (docs/wecom.md §3.4): all customers of one advisor, no paging. */
    listExternalContacts: (userid: string) =>
      call<ListExternalContactsResponse>({ endpoint: 'externalcontact/list', method: 'GET', query: { userid } }),
    /** `GET externalcontact/get_follow_user_list` (docs/wecom.md §3.5). */
    getFollowUserList: () =>
      call<GetFollowUserListResponse>({ endpoint: 'externalcontact/get_follow_user_list', method: 'GET' }),
    /** `POST externalcontact/remark` (docs/wecom.md §3.6). `remark_mobiles` overwrites. No callback results. */
    remark: (req: RemarkRequest) =>
      call<WecomBaseResponse>({ endpoint: 'externalcontact/remark', method: 'POST', json: req }),
  };
}
