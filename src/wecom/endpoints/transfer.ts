import type { Caller } from '../call-spec.js';
import type { WecomBaseResponse } from '../http.js';

export interface TransferCustomerRequest {
  handover_userid: string;
  takeover_userid: string;
  /** At most 100. */
  external_userid: string[];
  transfer_success_msg?: string;
}

export interface TransferCustomerResponse extends WecomBaseResponse {
  /** Per customer: 0 = transfer started (takes over after 24 h). */
  customer: Array<{ external_userid: string; errcode: number }>;
}

export interface TransferResultResponse extends WecomBaseResponse {
  /** status 1 done, 2 waiting, 3 refused, 4 taker at limit. */
  customer: Array<{ external_userid: string; status: number; takeover_time: number }>;
  next_cursor?: string;
}

export interface UnassignedListResponse extends WecomBaseResponse {
  info: Array<{ handover_userid: string; external_userid: string; dimission_time: number }>;
  is_last: boolean;
  next_cursor?: string;
}

type ResultRequest = { handover_userid: string; takeover_userid: string; cursor?: string };

/** In-service and resigned transfers (docs/wecom.md §3.15–§3.17). Starts are not retried on timeout. */
export function transferApi(call: Caller) {
  return {
    /** `POST externalcontact/transfer_customer` (在职继承). */
    transferCustomer: (req: TransferCustomerRequest) =>
      call<TransferCustomerResponse>({
        endpoint: 'externalcontact/transfer_customer',
        method: 'POST',
        json: req,
        retryOnTimeout: false,
      }),
    /** `POST externalcontact/transfer_result`. */
    transferResult: (req: ResultRequest) =>
      call<TransferResultResponse>({ endpoint: 'externalcontact/transfer_result', method: 'POST', json: req }),
    /** `POST externalcontact/get_unassigned_list`: customers of members who left. */
    getUnassignedList: (req: { cursor?: string; page_size?: number } = {}) =>
      call<UnassignedListResponse>({ endpoint: 'externalcontact/get_unassigned_list', method: 'POST', json: req }),
    /** `POST externalcontact/resigned/transfer_customer` (离职继承); 40097 if the member has not left. */
    resignedTransferCustomer: (req: Omit<TransferCustomerRequest, 'transfer_success_msg'>) =>
      call<TransferCustomerResponse>({
        endpoint: 'externalcontact/resigned/transfer_customer',
        method: 'POST',
        json: req,
        retryOnTimeout: false,
      }),
    /** `POST externalcontact/resigned/transfer_result`. */
    resignedTransferResult: (req: ResultRequest) =>
      call<TransferResultResponse>({ endpoint: 'externalcontact/resigned/transfer_result', method: 'POST', json: req }),
  };
}
