import type { Caller } from '../call-spec.js';
import type { WecomBaseResponse } from '../http.js';

/** Welcome and mass-send attachments (docs/wecom.md §3.9, at most 9). */
export type Attachment =
  | { msgtype: 'image'; image: { media_id?: string; pic_url?: string } }
  | { msgtype: 'link'; link: { title: string; picurl?: string; desc?: string; url: string } }
  | { msgtype: 'miniprogram'; miniprogram: { title: string; pic_media_id: string; appid: string; page: string } }
  | { msgtype: 'video'; video: { media_id: string } }
  | { msgtype: 'file'; file: { media_id: string } };

export interface SendWelcomeMsgRequest {
  welcome_code: string;
  text?: { content: string };
  attachments?: Attachment[];
}

export interface AddMsgTemplateRequest {
  chat_type?: 'single' | 'group';
  external_userid?: string[];
  chat_id_list?: string[];
  tag_filter?: { group_list: Array<{ tag_list: string[] }> };
  sender?: string;
  allow_select?: boolean;
  text?: { content: string };
  attachments?: Attachment[];
}

export interface AddMsgTemplateResponse extends WecomBaseResponse {
  msgid: string;
  fail_list?: string[];
}

export interface GroupmsgTaskResponse extends WecomBaseResponse {
  /** status 0 unsent, 2 sent (docs/wecom.md §3.11). */
  task_list: Array<{ userid: string; status: number; send_time?: number }>;
  next_cursor?: string;
}

export interface GroupmsgSendResultResponse extends WecomBaseResponse {
  /** status 0 unsent, 1 sent, 2 not a friend, 3 over the monthly quota. */
  send_list: Array<{ external_userid?: string; chat_id?: string; userid: string; status: number; send_time?: number }>;
  next_cursor?: string;
}

/** Welcome messages and advisor-confirmed mass sends (docs/wecom.md §3.9–§3.11). */
export function massSendApi(call: Caller) {
  return {
    /** `POST externalcontact/send_welcome_msg`: within 20 s, once per code (41050/41051 permanent). */
    sendWelcomeMsg: (req: SendWelcomeMsgRequest) =>
      call<WecomBaseResponse>({ endpoint: 'externalcontact/send_welcome_msg', method: 'POST', json: req }),
    /** `POST externalcontact/add_msg_template`: creates advisor tasks; nothing is sent until they confirm. */
    addMsgTemplate: (req: AddMsgTemplateRequest) =>
      call<AddMsgTemplateResponse>({
        endpoint: 'externalcontact/add_msg_template',
        method: 'POST',
        json: req,
        retryOnTimeout: false,
      }),
    /** `POST externalcontact/get_groupmsg_task`. */
    getGroupmsgTask: (req: { msgid: string; limit?: number; cursor?: string }) =>
      call<GroupmsgTaskResponse>({ endpoint: 'externalcontact/get_groupmsg_task', method: 'POST', json: req }),
    /** `POST externalcontact/get_groupmsg_send_result`. */
    getGroupmsgSendResult: (req: { msgid: string; userid: string; limit?: number; cursor?: string }) =>
      call<GroupmsgSendResultResponse>({
        endpoint: 'externalcontact/get_groupmsg_send_result',
        method: 'POST',
        json: req,
      }),
    /** `POST externalcontact/remind_groupmsg_send`: at most 3 per message per 24 h (41094). */
    remindGroupmsgSend: (msgid: string) =>
      call<WecomBaseResponse>({ endpoint: 'externalcontact/remind_groupmsg_send', method: 'POST', json: { msgid } }),
    /** `POST externalcontact/cancel_groupmsg_send`: stops unsent tasks; cannot recall sent ones. */
    cancelGroupmsgSend: (msgid: string) =>
      call<WecomBaseResponse>({ endpoint: 'externalcontact/cancel_groupmsg_send', method: 'POST', json: { msgid } }),
  };
}
