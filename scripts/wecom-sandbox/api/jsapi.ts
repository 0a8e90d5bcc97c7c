import { ApiFault } from '../server/api-fault.js';
import type { ApiRequest, ApiRoutes } from '../server/context.js';
import type { TicketKind } from '../server/tickets.js';

function issue({ corp, sb }: ApiRequest, kind: TicketKind) {
  const result = sb.tickets.fetch(corp.corpId, corp.agentId, kind);
  if (result === 'limited')
    throw new ApiFault(45009, 'api freq out of limit (jsapi ticket: too many fetches this hour)');
  return { ticket: result.ticket, expires_in: result.expiresIn };
}

/** The two JS-SDK ticket endpoints (docs/wecom.md §10.2). */
export const jsapiRoutes: ApiRoutes = {
  get_jsapi_ticket: { method: 'GET', handler: (req) => issue(req, 'corp') },
  'ticket/get': {
    method: 'GET',
    handler: (req) => {
      if (req.query.type !== 'agent_config') throw new ApiFault(40097, 'invalid args: type must be agent_config');
      return issue(req, 'agent');
    },
  },
};
