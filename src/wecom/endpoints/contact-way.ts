import type { Caller } from '../call-spec.js';
import type { WecomBaseResponse } from '../http.js';

/**
 * The whole configuration of a 「联系我」 contact way. An update replaces `remark`, `user`, `party`
 * and, with most clients, everything else it carries (docs/wecom.md §9.3), so the bot always sends
 * every field it wants kept.
 */
export interface ContactWayConfig {
  remark?: string;
  skip_verify: boolean;
  /** The channel tag echoed in `add_external_contact`, at most 30 characters. */
  state: string;
  user?: string[];
  party?: number[];
}

export interface AddContactWayRequest extends ContactWayConfig {
  /** 1 single member, 2 multiple members. */
  type: 1 | 2;
  /** 2 = QR code. */
  scene: 1 | 2;
}

export interface AddContactWayResponse extends WecomBaseResponse {
  config_id: string;
  qr_code?: string;
}

export interface GetContactWayResponse extends WecomBaseResponse {
  contact_way: ContactWayConfig & { config_id: string; type: number; scene: number; qr_code?: string };
}

export interface ListContactWayResponse extends WecomBaseResponse {
  contact_way: Array<{ config_id: string }>;
  next_cursor?: string;
}

/** 「联系我」 contact ways (docs/wecom.md §9). Adds are not retried on timeout (a retry would make a second code). */
export function contactWayApi(call: Caller) {
  return {
    /** `POST externalcontact/add_contact_way`. */
    addContactWay: (req: AddContactWayRequest) =>
      call<AddContactWayResponse>({
        endpoint: 'externalcontact/add_contact_way',
        method: 'POST',
        json: req,
        retryOnTimeout: false,
      }),
    /** `POST externalcontact/get_contact_way`; 41044 when the code no longer exists. */
    getContactWay: (configId: string) =>
      call<GetContactWayResponse>({
        endpoint: 'externalcontact/get_contact_way',
        method: 'POST',
        json: { config_id: configId },
      }),
    /** `POST externalcontact/update_contact_way`: send the whole configuration. */
    updateContactWay: (configId: string, config: ContactWayConfig) =>
      call<WecomBaseResponse>({
        endpoint: 'externalcontact/update_contact_way',
        method: 'POST',
        json: { config_id: configId, ...config },
      }),
    /** `POST externalcontact/del_contact_way`. */
    delContactWay: (configId: string) =>
      call<WecomBaseResponse>({
        endpoint: 'externalcontact/del_contact_way',
        method: 'POST',
        json: { config_id: configId },
      }),
    /** `POST externalcontact/list_contact_way`: config ids made in a window (default the last 90 days). */
    listContactWay: (req: { start_time?: number; end_time?: number; cursor?: string; limit?: number } = {}) =>
      call<ListContactWayResponse>({ endpoint: 'externalcontact/list_contact_way', method: 'POST', json: req }),
  };
}
