import type { Caller } from './call-spec.js';
import type { CorpCredentials } from './token-cache.js';
import { contactWayApi } from './endpoints/contact-way.js';
import { directoryApi } from './endpoints/directory.js';
import { jsapiApi } from './endpoints/jsapi.js';
import { externalContactApi } from './endpoints/external-contact.js';
import { groupsApi } from './endpoints/groups.js';
import { massSendApi } from './endpoints/mass-send.js';
import { messagesApi } from './endpoints/messages.js';
import { momentsApi } from './endpoints/moments.js';
import { tagsApi } from './endpoints/tags.js';
import { transferApi } from './endpoints/transfer.js';

/** Every endpoint the bot uses, bound to one corp and app secret. */
export type CorpApi = ReturnType<typeof externalContactApi> &
  ReturnType<typeof tagsApi> &
  ReturnType<typeof massSendApi> &
  ReturnType<typeof messagesApi> &
  ReturnType<typeof directoryApi> &
  ReturnType<typeof transferApi> &
  ReturnType<typeof jsapiApi> &
  ReturnType<typeof groupsApi> &
  ReturnType<typeof momentsApi> &
  ReturnType<typeof contactWayApi> & { readonly corpId: string };

/** Assembles the corp-bound API from the endpoint groups. */
export function bindCorpApi(call: Caller, creds: CorpCredentials, opts: { markTagConcurrency: number }): CorpApi {
  return {
    corpId: creds.corpId,
    ...externalContactApi(call),
    ...tagsApi(call, opts.markTagConcurrency),
    ...massSendApi(call),
    ...messagesApi(call, creds.agentId),
    ...directoryApi(call),
    ...transferApi(call),
    ...jsapiApi(call),
    ...groupsApi(call),
    ...momentsApi(call),
    ...contactWayApi(call),
  };
}
