import type { Caller } from '../call-spec.js';
import type { WecomBaseResponse } from '../http.js';

export interface CorpTag {
  id: string;
  name: string;
  create_time: number;
  order: number;
  deleted?: boolean;
}

export interface CorpTagGroup {
  group_id: string;
  group_name: string;
  create_time: number;
  order: number;
  deleted?: boolean;
  tag: CorpTag[];
}

export interface GetCorpTagListResponse extends WecomBaseResponse {
  tag_group: CorpTagGroup[];
}

export interface AddCorpTagRequest {
  group_id?: string;
  group_name?: string;
  order?: number;
  tag: Array<{ name: string; order?: number }>;
}

export interface AddCorpTagResponse extends WecomBaseResponse {
  tag_group: CorpTagGroup;
}

export interface MarkTagRequest {
  userid: string;
  external_userid: string;
  add_tag?: string[];
  remove_tag?: string[];
}

/** Corp tags and tagging (docs/wecom.md §3.7, §3.8). */
export function tagsApi(call: Caller, markTagConcurrency: number) {
  return {
    /** `POST externalcontact/get_corp_tag_list`; both lists empty = all tags. */
    getCorpTagList: (req: { tag_id?: string[]; group_id?: string[] } = {}) =>
      call<GetCorpTagListResponse>({ endpoint: 'externalcontact/get_corp_tag_list', method: 'POST', json: req }),
    /** `POST externalcontact/add_corp_tag`: new group by name, or tags into `group_id`. */
    addCorpTag: (req: AddCorpTagRequest) =>
      call<AddCorpTagResponse>({ endpoint: 'externalcontact/add_corp_tag', method: 'POST', json: req }),
    /** `POST externalcontact/edit_corp_tag`: rename or reorder a tag or group this app created. */
    editCorpTag: (req: { id: string; name?: string; order?: number }) =>
      call<WecomBaseResponse>({ endpoint: 'externalcontact/edit_corp_tag', method: 'POST', json: req }),
    /** `POST externalcontact/del_corp_tag`; a group goes away with its last tag. */
    delCorpTag: (req: { tag_id?: string[]; group_id?: string[] }) =>
      call<WecomBaseResponse>({ endpoint: 'externalcontact/del_corp_tag', method: 'POST', json: req }),
    /**
     * `POST externalcontact/mark_tag` (docs/wecom.md §3.8). Capped per corp across processes (45033) and
     * serialised per advisor–customer pair (45035). 84061/40096 are permanent.
     */
    markTag: (req: MarkTagRequest) =>
      call<WecomBaseResponse>({
        endpoint: 'externalcontact/mark_tag',
        method: 'POST',
        json: req,
        concurrency: { name: 'mark_tag', limit: markTagConcurrency },
        lockKey: `tagpair:${req.userid}:${req.external_userid}`,
      }),
  };
}
