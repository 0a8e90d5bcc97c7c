import { WecomTransportError } from './errors.js';

/** Every WeCom response carries these (docs/wecom.md §0). */
export interface WecomBaseResponse {
  errcode: number;
  errmsg: string;
}

export type FetchFn = typeof globalThis.fetch;

export interface HttpRequest {
  /** WeCom path below the API base, e.g. `/cgi-bin/externalcontact/get`. */
  path: string;
  method: 'GET' | 'POST';
  /** Query parameters; `undefined` values are dropped. */
  query?: Readonly<Record<string, string | number | undefined>>;
  /** JSON body (POST). */
  json?: unknown;
  /** Multipart body (media upload). */
  form?: FormData;
  timeoutMs: number;
  /** Short endpoint name for errors and logs (never the URL: it holds the token). */
  endpoint: string;
}

/**
 * One HTTP round trip to WeCom: builds the URL, applies a per-call timeout (AbortSignal) and
 * parses the JSON. Transport problems (timeout, connection, non-2xx, non-JSON) become a
 * WecomTransportError; an `errcode` is returned as data for the caller to interpret.
 * Error messages never contain the URL, because the query carries the access token.
 */
export async function requestJson<T extends WecomBaseResponse>(
  fetchFn: FetchFn,
  apiBase: string,
  req: HttpRequest,
): Promise<T> {
  const url = new URL(req.path, apiBase.endsWith('/') ? apiBase : `${apiBase}/`);
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  // A timer cleared when the answer is in, not AbortSignal.timeout: its timer fires after every
  // call, answered or not, and builds an abort error each time (docs/benchmarks.md, bench:welcome).
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new DOMException(`no answer within ${req.timeoutMs} ms`, 'TimeoutError')),
    req.timeoutMs,
  );
  const init: RequestInit = { method: req.method, signal: abort.signal };
  if (req.form) init.body = req.form;
  else if (req.json !== undefined) {
    init.body = JSON.stringify(req.json);
    init.headers = { 'content-type': 'application/json; charset=utf-8' };
  }
  let text: string;
  let status: number;
  try {
    const res = await fetchFn(url, init);
    status = res.status;
    text = await res.text();
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new WecomTransportError('timeout', req.endpoint, `no answer within ${req.timeoutMs} ms`);
    }
    const cause =
      err instanceof Error && err.cause instanceof Error
        ? err.cause.message
        : err instanceof Error
          ? err.message
          : String(err);
    throw new WecomTransportError('network', req.endpoint, stripToken(cause));
  } finally {
    clearTimeout(timer);
  }
  if (status < 200 || status >= 300)
    throw new WecomTransportError('http_status', req.endpoint, `HTTP ${status}`, status);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WecomTransportError('bad_json', req.endpoint, 'response is not JSON', status);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { errcode?: unknown }).errcode !== 'number') {
    // gettoken and a few others omit errcode on success in old docs; treat a missing code as 0.
    if (typeof parsed === 'object' && parsed !== null) return { errcode: 0, errmsg: 'ok', ...parsed } as T;
    throw new WecomTransportError('bad_json', req.endpoint, 'response has no errcode', status);
  }
  return parsed as T;
}

/** Removes `access_token=...` should an error message ever echo a URL. */
export function stripToken(text: string): string {
  return text.replace(/(access_token|corpsecret)=[^&\s]*/g, '$1=***');
}
