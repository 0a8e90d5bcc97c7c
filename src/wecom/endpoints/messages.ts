import type { Caller } from '../call-spec.js';
import type { WecomBaseResponse } from '../http.js';

/** A template card (docs/wecom.md §3.12); the shape is validated by WeCom, typed loosely here. */
export interface TemplateCard {
  card_type: 'text_notice' | 'news_notice' | 'button_interaction' | 'vote_interaction' | 'multiple_interaction';
  task_id?: string;
  source?: { icon_url?: string; desc?: string; desc_color?: number };
  main_title?: { title?: string; desc?: string };
  sub_title_text?: string;
  emphasis_content?: { title?: string; desc?: string };
  horizontal_content_list?: Array<{
    type?: number;
    keyname: string;
    value?: string;
    url?: string;
    media_id?: string;
    userid?: string;
  }>;
  jump_list?: Array<{ type?: number; title: string; url?: string; appid?: string; pagepath?: string }>;
  card_action?: { type: number; url?: string; appid?: string; pagepath?: string };
  button_selection?: {
    question_key: string;
    title?: string;
    option_list: Array<{ id: string; text: string }>;
    selected_id?: string;
  };
  button_list?: Array<{ type?: number; text: string; style?: number; key?: string; url?: string }>;
  replace_text?: string;
  [extra: string]: unknown;
}

interface MessageTarget {
  touser?: string;
  toparty?: string;
  totag?: string;
  agentid?: number;
  safe?: 0 | 1;
  enable_id_trans?: 0 | 1;
  enable_duplicate_check?: 0 | 1;
  duplicate_check_interval?: number;
}

export type SendMessageRequest = MessageTarget &
  (
    | { msgtype: 'text'; text: { content: string } }
    | { msgtype: 'markdown'; markdown: { content: string } }
    | { msgtype: 'template_card'; template_card: TemplateCard }
  );

export interface SendMessageResponse extends WecomBaseResponse {
  invaliduser?: string;
  invalidparty?: string;
  invalidtag?: string;
  unlicenseduser?: string;
  msgid: string;
  /** Interactive cards only: single-use, 72 h. */
  response_code?: string;
}

export interface UpdateTemplateCardRequest {
  userids?: string[];
  partyids?: number[];
  tagids?: number[];
  atall?: 0 | 1;
  agentid?: number;
  response_code: string;
  enable_id_trans?: 0 | 1;
  button?: { replace_name: string };
  template_card?: TemplateCard;
}

export interface UpdateTemplateCardResponse extends WecomBaseResponse {
  invaliduser?: string[];
}

export type MediaType = 'image' | 'voice' | 'video' | 'file';

export interface UploadMediaResponse extends WecomBaseResponse {
  type: MediaType;
  media_id: string;
  created_at: string;
}

export interface UploadImageResponse extends WecomBaseResponse {
  url: string;
}

/** The multipart body WeCom's uploads take: one file field `media` with its name and type. */
export function mediaForm(data: Uint8Array, filename: string, contentType: string): () => FormData {
  return () => {
    const form = new FormData();
    // Node's Buffers are never SharedArrayBuffer-backed here; the DOM typing of Blob asks for ArrayBuffer.
    form.append('media', new Blob([data as Uint8Array<ArrayBuffer>], { type: contentType }), filename);
    return form;
  };
}

/** App messages, cards and media (docs/wecom.md §3.12, §3.13). `agentid` defaults to the bound app's. */
export function messagesApi(call: Caller, agentId: number | undefined) {
  return {
    /** `POST message/send`: text, markdown or template_card. Timeouts are not retried (no duplicates). */
    sendMessage: (req: SendMessageRequest) =>
      call<SendMessageResponse>({
        endpoint: 'message/send',
        method: 'POST',
        json: { agentid: agentId, ...req },
        retryOnTimeout: false,
      }),
    /** `POST message/update_template_card`: each response_code once, within 72 h (60140). */
    updateTemplateCard: (req: UpdateTemplateCardRequest) =>
      call<UpdateTemplateCardResponse>({
        endpoint: 'message/update_template_card',
        method: 'POST',
        json: { agentid: agentId, ...req },
      }),
    /** `POST media/upload?type=`: temporary media, valid 3 days. */
    uploadMedia: (type: MediaType, data: Uint8Array, filename: string, contentType = 'application/octet-stream') =>
      call<UploadMediaResponse>({
        endpoint: 'media/upload',
        method: 'POST',
        query: { type },
        form: mediaForm(data, filename, contentType),
      }),
    /** `POST media/uploadimg`: a permanent image URL for messages. */
    uploadImage: (data: Uint8Array, filename: string, contentType = 'image/png') =>
      call<UploadImageResponse>({
        endpoint: 'media/uploadimg',
        method: 'POST',
        form: mediaForm(data, filename, contentType),
      }),
  };
}
