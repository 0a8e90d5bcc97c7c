import type { Redis } from 'ioredis';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { backoffDelay, sleep } from './backoff.js';
import { WecomApiError, WecomTransportError } from './errors.js';
import { requestJson, type FetchFn, type WecomBaseResponse } from './http.js';
import { LocalThrottleError, WecomThrottle } from './rate-limit.js';
import { TokenCache, type CorpCredentials } from './token-cache.js';
import { bindCorpApi, type CorpApi } from './corp-api.js';
import type { CallSpec, Caller } from './call-spec.js';

export type { CorpCredentials } from './token-cache.js';
export type { CorpApi } from './corp-api.js';
export type { CallSpec, Caller } from './call-spec.js';

export interface RetryOptions {
  /** Retries after the first attempt (docs/wecom.md §4: -1 at most 3 times). Default 3. */
  maxRetries?: number;
  /** Backoff for transient errors (ms). Defaults 200 / 5,000. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Backoff base after 45009/45033/45035/45036 (ms). Default 1,000. */
  rateLimitDelayMs?: number;
  /**
   * Retries of a rate-limited call (45009 …, the local limiter). Default `maxRetries`. The worker
   * sets 0: the job ends and the worker runner pauses the queue instead of the job sleeping
   * (docs/architecture.md §4, "Failures").
   */
  rateLimitRetries?: number;
}

export interface WecomClientOptions {
  /** `https://qyapi.weixin.qq.com` or the sandbox URL (WECOM_API_BASE). */
  apiBase: string;
  fetch?: FetchFn;
  /** A producer-role connection is fine: every command here is short. */
  redis: Redis;
  logger: Logger;
  clock: Clock;
  /** Per-call timeout (WECOM_TIMEOUT_MS). Default 5,000. */
  timeoutMs?: number;
  keyPrefix: string;
  retry?: RetryOptions;
  /** Local limit per (corp, endpoint) per window; default 8,000/min, under WeCom's 10,000. */
  rateLimits?: {
    defaultLimit?: number;
    windowMs?: number;
    perEndpoint?: Readonly<Record<string, number>>;
    maxWaitMs?: number;
  };
  /** mark_tag calls in flight per corp across processes. Default 4 (WeCom: 45033 above 5). */
  markTagConcurrency?: number;
  /** Token cache tuning (tests). */
  tokenRefreshMarginMs?: number;
}

export interface WecomClient {
  /** The corp-bound API: one typed method per endpoint. */
  forCorp(creds: CorpCredentials): CorpApi;
  readonly tokens: TokenCache;
  readonly throttle: WecomThrottle;
  /**
   * A JS-SDK ticket (docs/wecom.md §10.2): `corp` (get_jsapi_ticket) or `agent`
   * (ticket/get?type=agent_config) of the app whose secret `creds` holds. Cached in Redis and
   * fetched single-flight across processes, once per expiry, like access tokens.
   */
  jsapiTicket(creds: CorpCredentials, kind: JsapiTicketKind): Promise<string>;
}

export type JsapiTicketKind = 'corp' | 'agent';

interface GetTokenResponse extends WecomBaseResponse {
  access_token: string;
  expires_in: number;
}

/**
 * The bot's single WeCom API client (docs/architecture.md §4, docs/architecture.md §13.8). Tokens are cached in Redis
 * and refreshed single-flight across processes; 40014/42001 refresh once and retry; retryable
 * codes (-1, 45009, 45033, 45035 ...) and transport errors back off with jitter, at most
 * `maxRetries` times; everything else throws WecomApiError at once.
 */
export function createWecomClient(options: WecomClientOptions): WecomClient {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxRetries = options.retry?.maxRetries ?? 3;
  const rateLimitRetries = options.retry?.rateLimitRetries ?? maxRetries;
  const transientPolicy = { baseMs: options.retry?.baseDelayMs ?? 200, maxMs: options.retry?.maxDelayMs ?? 5000 };
  const ratePolicy = {
    baseMs: options.retry?.rateLimitDelayMs ?? 1000,
    maxMs: Math.max(options.retry?.maxDelayMs ?? 5000, 8000),
  };
  const markTagConcurrency = options.markTagConcurrency ?? 4;
  const log = options.logger.child({ component: 'wecom-client' });

  const throttle = new WecomThrottle({
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    defaultLimit: options.rateLimits?.defaultLimit,
    windowMs: options.rateLimits?.windowMs,
    limits: options.rateLimits?.perEndpoint,
    maxWaitMs: options.rateLimits?.maxWaitMs,
  });

  const tokens = new TokenCache({
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    clock: options.clock,
    logger: log,
    refreshMarginMs: options.tokenRefreshMarginMs,
    fetchToken: async (creds) => {
      const res = await requestJson<GetTokenResponse>(fetchFn, options.apiBase, {
        path: '/cgi-bin/gettoken',
        method: 'GET',
        query: { corpid: creds.corpId, corpsecret: creds.secret },
        timeoutMs,
        endpoint: 'gettoken',
      });
      if (res.errcode !== 0) throw new WecomApiError(res.errcode, res.errmsg, 'gettoken', creds.corpId);
      return { accessToken: res.access_token, expiresIn: res.expires_in };
    },
  });

  const ticketCache = (kind: JsapiTicketKind) =>
    new TokenCache({
      redis: options.redis,
      keyPrefix: options.keyPrefix,
      kind: kind === 'corp' ? 'jsapi-ticket' : 'agent-ticket',
      clock: options.clock,
      logger: log,
      refreshMarginMs: options.tokenRefreshMarginMs,
      fetchToken: async (creds) => {
        const api = forCorp(creds);
        const res = kind === 'corp' ? await api.getCorpJsapiTicket() : await api.getAgentConfigTicket();
        return { accessToken: res.ticket, expiresIn: res.expires_in };
      },
    });
  const tickets = { corp: ticketCache('corp'), agent: ticketCache('agent') };

  function forCorp(creds: CorpCredentials): CorpApi {
    const corpId = creds.corpId;

    async function once<T extends WecomBaseResponse>(spec: CallSpec, token: string): Promise<T> {
      // Lock, semaphore slot and window take in one Redis round trip, their release in one more.
      const release = await throttle.acquireCall(corpId, spec.endpoint, {
        lock: spec.lockKey,
        concurrency: spec.concurrency,
      });
      try {
        const res = await requestJson<T>(fetchFn, options.apiBase, {
          path: `/cgi-bin/${spec.endpoint}`,
          method: spec.method,
          query: { ...spec.query, access_token: token },
          json: spec.json,
          form: spec.form?.(),
          timeoutMs,
          endpoint: spec.endpoint,
        });
        if (res.errcode !== 0) throw new WecomApiError(res.errcode, res.errmsg, spec.endpoint, corpId);
        return res;
      } finally {
        await release();
      }
    }

    const call: Caller = async <T extends WecomBaseResponse>(spec: CallSpec): Promise<T> => {
      let tokenRefreshed = false;
      let token = await tokens.get(creds);
      for (let attempt = 0; ;) {
        const started = Date.now();
        try {
          const res = await once<T>(spec, token);
          log.debug({ corpId, endpoint: spec.endpoint, attempt, ms: Date.now() - started }, 'wecom call ok');
          return res;
        } catch (err) {
          const errcode = err instanceof WecomApiError ? err.errcode : undefined;
          log.debug(
            { corpId, endpoint: spec.endpoint, attempt, errcode, ms: Date.now() - started, err: errName(err) },
            'wecom call failed',
          );
          if (err instanceof WecomApiError && err.kind === 'token' && !tokenRefreshed) {
            tokenRefreshed = true;
            token = await tokens.refresh(creds, token);
            continue;
          }
          const rateLimited = (err instanceof WecomApiError && err.rateLimited) || err instanceof LocalThrottleError;
          if (!mayRetry(err, spec) || attempt >= (rateLimited ? rateLimitRetries : maxRetries)) throw err;
          const delay = backoffDelay(attempt, rateLimited ? ratePolicy : transientPolicy);
          if (errcode === 45009) await throttle.block(corpId, spec.endpoint, delay);
          log.warn(
            { corpId, endpoint: spec.endpoint, attempt, errcode, delayMs: delay, err: errName(err) },
            'wecom call retrying',
          );
          await sleep(delay);
          attempt += 1;
        }
      }
    };

    return bindCorpApi(call, creds, { markTagConcurrency });
  }

  // The corp-bound API is built once per app (credentials), not per job: it only closes over them.
  const bound = new Map<string, CorpApi>();
  const forCorpCached = (creds: CorpCredentials): CorpApi => {
    const id = `${creds.corpId}\u0000${creds.secret}\u0000${creds.agentId ?? ''}`;
    let api = bound.get(id);
    if (!api) {
      if (bound.size >= 1000) bound.clear();
      api = forCorp(creds);
      bound.set(id, api);
    }
    return api;
  };

  return { forCorp: forCorpCached, tokens, throttle, jsapiTicket: (creds, kind) => tickets[kind].get(creds) };
}

function mayRetry(err: unknown, spec: CallSpec): boolean {
  if (err instanceof WecomApiError) return err.retryable;
  if (err instanceof LocalThrottleError) return true;
  if (err instanceof WecomTransportError) return err.reason !== 'timeout' || spec.retryOnTimeout !== false;
  return false;
}

function errName(err: unknown): string {
  if (err instanceof WecomTransportError) return `transport:${err.reason}`;
  if (err instanceof Error) return err.name;
  return 'unknown';
}
