import type { Caller } from '../call-spec.js';
import type { WecomBaseResponse } from '../http.js';

/** Both JS-SDK tickets answer `{ ticket, expires_in }` (docs/wecom.md §10.2). */
export interface JsapiTicketResponse extends WecomBaseResponse {
  ticket: string;
  expires_in: number;
}

/**
 * The two JS-SDK tickets (docs/wecom.md §10.2). Callers go through the client's ticket cache
 * (`WecomClient.jsapiTicket`), never these raw calls: WeCom limits fetches per hour.
 */
export function jsapiApi(call: Caller) {
  return {
    /** `GET get_jsapi_ticket`: the corp ticket, signs `wx.config` / `getConfigSignature`. */
    getCorpJsapiTicket: () => call<JsapiTicketResponse>({ endpoint: 'get_jsapi_ticket', method: 'GET' }),
    /** `GET ticket/get?type=agent_config`: the app ticket, signs `wx.agentConfig` / `getAgentConfigSignature`. */
    getAgentConfigTicket: () =>
      call<JsapiTicketResponse>({ endpoint: 'ticket/get', method: 'GET', query: { type: 'agent_config' } }),
  };
}
