import type { WecomBaseResponse } from './http.js';

/** One outbound call as the endpoint modules describe it. */
export interface CallSpec {
  /** Path below `/cgi-bin/`, e.g. `externalcontact/get`; also the rate-limit and log name. */
  endpoint: string;
  method: 'GET' | 'POST';
  query?: Readonly<Record<string, string | number | undefined>>;
  json?: unknown;
  /** Multipart body, rebuilt for each attempt. */
  form?: () => FormData;
  /**
   * Whether a timeout may be retried. False for sends (message/send, add_msg_template, transfers):
   * a timed-out send may have been delivered, and a retry would duplicate it. Default true.
   */
  retryOnTimeout?: boolean;
  /**
   * Concurrency cap across processes per (corp, endpoint) (mark_tag: WeCom answers 45033 above 5
   * in flight). Taken with the lock and the rate-window take in one script (docs/wecom.md §5).
   */
  concurrency?: { name: string; limit: number };
  /** Serialise calls on one record of the endpoint (mark_tag per advisor–customer pair: 45035). */
  lockKey?: string;
}

/** Calls one endpoint for the bound corp, returning the success body or throwing. */
export type Caller = <T extends WecomBaseResponse>(spec: CallSpec) => Promise<T>;
