/**
 * WeCom API errors and their classification (docs/wecom.md §4, doc 90313).
 * Branch on `errcode` only; `errmsg` text changes.
 */

/** How the client and BullMQ processors treat an errcode. */
export type WecomErrorKind =
  /** -1, 6000, 41096: transient; retry with backoff. */
  | 'transient'
  /** 45009, 45033, 45035, 45036: throttled; retry later with backoff (a queue rate-limit delay). */
  | 'rate_limited'
  /** 40014, 42001: refresh the token once, retry once. */
  | 'token'
  /** Mass-send still dispatching (41063): retry later. */
  | 'not_ready'
  /** Everything else: a business fact or a bug; never retried. */
  | 'permanent'
  /** Misconfiguration (bad secret, corp id, permission, IP): alert, never loop. */
  | 'config';

export interface WecomErrorInfo {
  kind: WecomErrorKind;
  /** Short English meaning, safe to log. */
  meaning: string;
}

/** Classification table from docs/wecom.md §4. Codes not listed are `permanent`. */
export const WECOM_ERRORS: Readonly<Record<number, WecomErrorInfo>> = {
  [-1]: { kind: 'transient', meaning: 'system busy' },
  6000: { kind: 'transient', meaning: 'data version conflict' },
  40001: { kind: 'config', meaning: 'invalid secret' },
  40003: { kind: 'permanent', meaning: 'invalid userid' },
  40004: { kind: 'permanent', meaning: 'invalid media file type' },
  40006: { kind: 'permanent', meaning: 'invalid file size' },
  40007: { kind: 'permanent', meaning: 'invalid media_id' },
  40013: { kind: 'config', meaning: 'invalid corpid' },
  40014: { kind: 'token', meaning: 'invalid access_token' },
  40035: { kind: 'permanent', meaning: 'invalid parameter' },
  40058: { kind: 'permanent', meaning: 'invalid parameter' },
  40063: { kind: 'permanent', meaning: 'parameter missing or empty' },
  40068: { kind: 'permanent', meaning: 'invalid tag or tag group id' },
  40096: { kind: 'permanent', meaning: 'invalid external_userid' },
  40097: { kind: 'permanent', meaning: 'member has not left' },
  40098: { kind: 'permanent', meaning: 'member not real-name verified' },
  40099: { kind: 'permanent', meaning: 'customer count limit reached' },
  40100: { kind: 'permanent', meaning: 'customer already in a transfer' },
  40126: { kind: 'permanent', meaning: 'corp tag count limit' },
  40128: { kind: 'permanent', meaning: 'transferred twice in 90 days' },
  40129: { kind: 'permanent', meaning: 'transfer in progress' },
  40130: { kind: 'permanent', meaning: 'handover equals takeover' },
  40131: { kind: 'permanent', meaning: 'handover is not a follower' },
  40144: { kind: 'permanent', meaning: 'customer tag count limit' },
  40145: { kind: 'permanent', meaning: 'media_id expired' },
  41001: { kind: 'permanent', meaning: 'access_token missing' },
  41048: { kind: 'permanent', meaning: 'no sendable customers' },
  41049: { kind: 'permanent', meaning: 'welcome code missing' },
  41050: { kind: 'permanent', meaning: 'welcome code invalid, expired or used' },
  41051: { kind: 'permanent', meaning: 'customer already chatting' },
  41053: { kind: 'permanent', meaning: 'customer has not accepted archiving' },
  41063: { kind: 'not_ready', meaning: 'mass send still dispatching' },
  41064: { kind: 'permanent', meaning: 'too many attachments' },
  41065: { kind: 'permanent', meaning: 'invalid attachment type' },
  41072: { kind: 'permanent', meaning: 'wrong media_type or attachment_type for the attachment' },
  41078: { kind: 'transient', meaning: 'too many Moments creation jobs running' },
  41079: { kind: 'not_ready', meaning: 'Moments post still dispatching' },
  41080: { kind: 'permanent', meaning: 'attachment too large' },
  41081: { kind: 'permanent', meaning: 'attachment image resolution too large' },
  41082: { kind: 'permanent', meaning: 'attachment video too long' },
  41089: { kind: 'permanent', meaning: 'Moments text and attachments both empty' },
  41090: { kind: 'permanent', meaning: 'invalid video format' },
  41093: { kind: 'permanent', meaning: 'mass send task cancelled' },
  41094: { kind: 'permanent', meaning: 'reminder limit exceeded' },
  41096: { kind: 'transient', meaning: 'welcome message being distributed by another app' },
  41210: { kind: 'permanent', meaning: 'monthly Moments creation limit reached' },
  41211: { kind: 'permanent', meaning: 'Moments not enabled for the corp' },
  42001: { kind: 'token', meaning: 'access_token expired' },
  42014: { kind: 'permanent', meaning: 'invalid task_id' },
  43012: { kind: 'config', meaning: 'app has no callback URL' },
  45009: { kind: 'rate_limited', meaning: 'frequency limit' },
  45033: { kind: 'rate_limited', meaning: 'concurrency limit' },
  45035: { kind: 'rate_limited', meaning: 'concurrent modification of one record' },
  45036: { kind: 'rate_limited', meaning: 'abnormal traffic limit' },
  48002: { kind: 'config', meaning: 'API not permitted for this app' },
  48006: { kind: 'config', meaning: 'permission revoked for inactivity' },
  48011: { kind: 'config', meaning: 'member activity too low' },
  50002: { kind: 'permanent', meaning: 'member outside permission range' },
  60011: { kind: 'config', meaning: 'no permission (outside visible range)' },
  60020: { kind: 'config', meaning: 'untrusted source IP' },
  60111: { kind: 'permanent', meaning: 'userid not found' },
  60140: { kind: 'permanent', meaning: 'invalid or expired response_code' },
  81013: { kind: 'permanent', meaning: 'all recipients invalid' },
  84061: { kind: 'permanent', meaning: 'no external contact relationship' },
  84074: { kind: 'config', meaning: 'no external contact permission' },
  701008: { kind: 'config', meaning: 'no interop license' },
};

/** Looks up an errcode; unknown codes are permanent (never loop on what we do not understand). */
export function classifyErrcode(errcode: number): WecomErrorInfo {
  return WECOM_ERRORS[errcode] ?? { kind: 'permanent', meaning: 'unclassified WeCom error' };
}

/** Whether a retry with backoff may succeed (docs/wecom.md §4, "Retry policy summary"). */
export function isRetryableErrcode(errcode: number): boolean {
  const { kind } = classifyErrcode(errcode);
  return kind === 'transient' || kind === 'rate_limited' || kind === 'not_ready';
}

/** `errcode !== 0` from WeCom. `retryable` says whether backing off and trying again may help. */
export class WecomApiError extends Error {
  readonly kind: WecomErrorKind;
  readonly retryable: boolean;
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
    readonly endpoint: string,
    readonly corpId?: string,
  ) {
    const info = classifyErrcode(errcode);
    super(`WeCom ${endpoint} failed: ${errcode} (${info.meaning})`);
    this.name = 'WecomApiError';
    this.kind = info.kind;
    this.retryable = isRetryableErrcode(errcode);
  }

  /** True for 45009/45033/45035/45036. */
  get rateLimited(): boolean {
    return this.kind === 'rate_limited';
  }
}

export type WecomTransportReason = 'timeout' | 'network' | 'http_status' | 'bad_json';

/**
 * The call did not produce a WeCom answer: a timeout, a connection error, a non-2xx status or an
 * unparsable body. Always retryable (the request may or may not have been applied).
 */
export class WecomTransportError extends Error {
  readonly retryable = true;
  constructor(
    readonly reason: WecomTransportReason,
    readonly endpoint: string,
    message: string,
    readonly status?: number,
  ) {
    super(`WeCom ${endpoint} ${reason}: ${message}`);
    this.name = 'WecomTransportError';
  }
}

/** Whether the client's retry loop (or a queue) should try again. */
export function isRetryableWecomError(err: unknown): boolean {
  return (err instanceof WecomApiError || err instanceof WecomTransportError) && err.retryable;
}
