import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (docs/outcomes.md, "Webhook signature"): `webhook-signature` is a
 * space-separated list of `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">`
 * keyed with the secret's bytes (`whsec_<base64>`). Several signatures let a sender sign with the
 * old and the new secret during a rotation.
 */
export const SECRET_PREFIX = 'whsec_';

export function secretBytes(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error(`a webhook secret starts with ${SECRET_PREFIX}`);
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** The `v1,<base64>` signature of one delivery (senders, the simulator and tests use it too). */
export function signWebhook(secret: string, id: string, timestampS: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secretBytes(secret)).update(`${id}.${timestampS}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

export type SignatureCheck =
  | { ok: true; secretId: string }
  | { ok: false; code: 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature'; message: string };

/**
 * Checks a delivery against the valid secrets: headers present, timestamp within `toleranceS` of
 * now (either side), and one `v1` signature equal (constant time) to one secret's.
 */
export function verifyWebhook(input: {
  id?: string;
  timestamp?: string;
  signature?: string;
  body: Buffer;
  secrets: ReadonlyArray<{ id: string; secret: string }>;
  nowMs: number;
  toleranceS: number;
}): SignatureCheck {
  if (!input.id || !input.timestamp || !input.signature) {
    return {
      ok: false,
      code: 'missing_headers',
      message: 'send webhook-id, webhook-timestamp and webhook-signature headers (Standard Webhooks)',
    };
  }
  if (!/^\d{1,12}$/.test(input.timestamp))
    return { ok: false, code: 'bad_timestamp', message: 'webhook-timestamp must be Unix seconds' };
  const ts = Number(input.timestamp);
  if (Math.abs(input.nowMs / 1000 - ts) > input.toleranceS) {
    return {
      ok: false,
      code: 'stale_timestamp',
      message: `webhook-timestamp is more than ${input.toleranceS} s away from our clock; sign each delivery when sending it`,
    };
  }
  const offered = input.signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  for (const { id, secret } of input.secrets) {
    const expected = Buffer.from(signWebhook(secret, input.id, ts, input.body).slice(3), 'base64');
    if (offered.some((o) => o.length === expected.length && timingSafeEqual(o, expected)))
      return { ok: true, secretId: id };
  }
  return {
    ok: false,
    code: 'bad_signature',
    message: 'no webhook-signature matches a valid secret for this corp and source',
  };
}
