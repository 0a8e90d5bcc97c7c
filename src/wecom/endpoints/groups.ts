import type { Caller } from '../call-spec.js';
import type { WecomBaseResponse } from '../http.js';

export interface GroupChatListResponse extends WecomBaseResponse {
  /** status: 0 normal, 1 owner left awaiting inheritance, 2 inheriting, 3 inherited. */
  group_chat_list: Array<{ chat_id: string; status: number }>;
  next_cursor?: string;
}

export interface GroupChatMember {
  userid: string;
  /** 1 corp member, 2 external contact. */
  type: number;
  join_time: number;
  /** 1 invited directly, 2 invite link, 3 group QR (docs/wecom.md §11.2). */
  join_scene: number;
  invitor?: { userid: string };
  group_nickname?: string;
  name?: string;
  unionid?: string;
  state?: string;
}

export interface GroupChatGetResponse extends WecomBaseResponse {
  group_chat: {
    chat_id: string;
    name: string;
    owner: string;
    create_time: number;
    notice?: string;
    member_list: GroupChatMember[];
    admin_list?: Array<{ userid: string }>;
    member_version?: string;
  };
}

export interface GroupTransferResponse extends WecomBaseResponse {
  /** errcode 0 even when some groups failed (docs/wecom.md §11.8). */
  failed_chat_list?: Array<{ chat_id: string; errcode: number; errmsg: string }>;
}

/** A group welcome template: text plus at most one attachment (docs/wecom.md §11.6). */
export interface GroupWelcomeTemplateBody {
  text?: { content: string };
  image?: { media_id?: string; pic_url?: string };
  link?: { title: string; picurl?: string; desc?: string; url: string };
  miniprogram?: { title: string; pic_media_id: string; appid: string; page: string };
  file?: { media_id: string };
  video?: { media_id: string };
}

/** Customer groups, owner transfers and group welcome templates (docs/wecom.md §11). */
export function groupsApi(call: Caller) {
  return {
    /** `POST externalcontact/groupchat/list`: cursor paging, `limit` 1–1000 required. */
    groupchatList: (req: {
      status_filter?: number;
      owner_filter?: { userid_list: string[] };
      cursor?: string;
      limit: number;
    }) => call<GroupChatListResponse>({ endpoint: 'externalcontact/groupchat/list', method: 'POST', json: req }),
    /** `POST externalcontact/groupchat/get`. */
    groupchatGet: (chatId: string, needName = false) =>
      call<GroupChatGetResponse>({
        endpoint: 'externalcontact/groupchat/get',
        method: 'POST',
        json: { chat_id: chatId, need_name: needName ? 1 : 0 },
      }),
    /** `POST externalcontact/groupchat/onjob_transfer`: owner in service; ≤100 groups per call. */
    groupchatOnjobTransfer: (req: { chat_id_list: string[]; new_owner: string }) =>
      call<GroupTransferResponse>({
        endpoint: 'externalcontact/groupchat/onjob_transfer',
        method: 'POST',
        json: req,
        retryOnTimeout: false,
      }),
    /** `POST externalcontact/groupchat/transfer`: owner resigned; ≤100 groups per call. */
    groupchatResignedTransfer: (req: { chat_id_list: string[]; new_owner: string }) =>
      call<GroupTransferResponse>({
        endpoint: 'externalcontact/groupchat/transfer',
        method: 'POST',
        json: req,
        retryOnTimeout: false,
      }),
    /** `POST externalcontact/group_welcome_template/add` (≤100 per corp, 41055). */
    groupWelcomeTemplateAdd: (req: GroupWelcomeTemplateBody & { notify?: 0 | 1 }) =>
      call<WecomBaseResponse & { template_id: string }>({
        endpoint: 'externalcontact/group_welcome_template/add',
        method: 'POST',
        json: req,
        retryOnTimeout: false,
      }),
    /** `POST externalcontact/group_welcome_template/edit` (this app's templates only, 41058). */
    groupWelcomeTemplateEdit: (req: GroupWelcomeTemplateBody & { template_id: string }) =>
      call<WecomBaseResponse>({ endpoint: 'externalcontact/group_welcome_template/edit', method: 'POST', json: req }),
    /** `POST externalcontact/group_welcome_template/get`. */
    groupWelcomeTemplateGet: (templateId: string) =>
      call<WecomBaseResponse & GroupWelcomeTemplateBody>({
        endpoint: 'externalcontact/group_welcome_template/get',
        method: 'POST',
        json: { template_id: templateId },
      }),
    /** `POST externalcontact/group_welcome_template/del`. */
    groupWelcomeTemplateDel: (templateId: string) =>
      call<WecomBaseResponse>({
        endpoint: 'externalcontact/group_welcome_template/del',
        method: 'POST',
        json: { template_id: templateId },
      }),
  };
}
