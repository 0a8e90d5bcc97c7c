export * from './callback-crypto.js';
export * from './errors.js';
export * from './job-errors.js';
export {
  createWecomClient,
  type WecomClient,
  type WecomClientOptions,
  type RetryOptions,
  type CallSpec,
  type Caller,
  type JsapiTicketKind,
} from './client.js';
export { jsapiSignature, signJsapi, signableUrl, type JsapiSignature } from './jsapi-signature.js';
export type { CorpApi } from './corp-api.js';
export type { CorpCredentials } from './token-cache.js';
export { tokenKey, TokenCache } from './token-cache.js';
export { WecomThrottle, LocalThrottleError } from './rate-limit.js';
export type * from './types.js';
