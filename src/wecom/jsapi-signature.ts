import { createHash, randomBytes } from 'node:crypto';

export interface JsapiSignInput {
  ticket: string;
  nonceStr: string;
  /** Seconds since the epoch. */
  timestamp: number;
  /** The page URL; anything from `#` on is dropped before signing. */
  url: string;
}

/** The page URL as WeCom signs it: scheme, host, path and query, without the fragment (docs/wecom.md §10.3). */
export function signableUrl(url: string): string {
  const hash = url.indexOf('#');
  return hash === -1 ? url : url.slice(0, hash);
}

/**
 * The JS-SDK signature (docs/wecom.md §10.3): lowercase hex sha1 of
 * `jsapi_ticket=T&noncestr=N&timestamp=S&url=U`, keys in this order, values not URL-encoded.
 * The same algorithm serves the corp ticket (config) and the app ticket (agentConfig).
 */
export function jsapiSignature(input: JsapiSignInput): string {
  const plain = `jsapi_ticket=${input.ticket}&noncestr=${input.nonceStr}&timestamp=${input.timestamp}&url=${signableUrl(input.url)}`;
  return createHash('sha1').update(plain, 'utf8').digest('hex');
}

/** What the page passes to `ww.register`'s signature callbacks. */
export interface JsapiSignature {
  timestamp: number;
  nonceStr: string;
  signature: string;
}

/** A fresh nonce (16 chars of `[A-Za-z0-9]`) and the signature for `url` at `nowMs`. */
export function signJsapi(ticket: string, url: string, nowMs: number): JsapiSignature {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const nonceStr = Array.from(randomBytes(16), (b) => alphabet[b % alphabet.length]).join('');
  const timestamp = Math.floor(nowMs / 1000);
  return { timestamp, nonceStr, signature: jsapiSignature({ ticket, nonceStr, timestamp, url }) };
}
