import { CallbackCryptoError, decryptCallback, verifySignature } from '../wecom/callback-crypto.js';
import type { CallbackCredentials } from '../domain/corps/corp.types.js';
import type { CallbackOutcome } from '../infra/metrics.js';

/** Why a callback was refused: the HTTP status, the metric outcome and a log reason (never body content). */
export interface Rejection {
  status: 400 | 401 | 404 | 405 | 413 | 415;
  outcome: CallbackOutcome;
  reason: string;
}

export type Verified = { ok: true; message: string } | { ok: false; rejection: Rejection };

export interface SignedQuery {
  msg_signature?: string;
  timestamp?: string;
  nonce?: string;
}

export const reject = (
  status: Rejection['status'],
  outcome: CallbackOutcome,
  reason: string,
): { ok: false; rejection: Rejection } => ({ ok: false, rejection: { status, outcome, reason } });

/**
 * Verifies and opens one callback payload (docs/wecom.md §1.3/§1.4): signature over (token,
 * timestamp, nonce, encrypt) compared in constant time → 401; decrypt (malformed ciphertext →
 * 400); receive id must equal the corp id (→ 401: a payload for another corp or suite);
 * then, when `windowS > 0`, the timestamp must be within ±windowS of now (→ 401, replay defence).
 */
export function verifyCallback(
  creds: CallbackCredentials,
  corpId: string,
  query: SignedQuery,
  encrypt: string,
  nowS: number,
  windowS: number,
): Verified {
  const { msg_signature: signature, timestamp, nonce } = query;
  if (!signature || timestamp === undefined || nonce === undefined)
    return reject(401, 'bad_signature', 'missing msg_signature, timestamp or nonce');
  if (!verifySignature(creds.token, timestamp, nonce, encrypt, signature))
    return reject(401, 'bad_signature', 'msg_signature does not match');
  let opened: { message: string; receiveId: string };
  try {
    opened = decryptCallback(creds.encodingAesKey, encrypt);
  } catch (err) {
    if (err instanceof CallbackCryptoError) return reject(400, 'malformed', `ciphertext: ${err.reason}`);
    throw err;
  }
  if (opened.receiveId !== corpId) return reject(401, 'receive_id_mismatch', 'receive id is not this corp');
  if (windowS > 0) {
    const ts = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
    if (!Number.isFinite(ts) || Math.abs(nowS - ts) > windowS) {
      return reject(
        401,
        'stale_timestamp',
        Number.isFinite(ts) ? `timestamp off by ${Math.round(nowS - ts)} s` : 'timestamp is not unix seconds',
      );
    }
  }
  return { ok: true, message: opened.message };
}
