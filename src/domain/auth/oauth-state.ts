import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** The cookie holding a sign-in round trip's state; only sent to /console/auth. */
export const STATE_COOKIE = 'scrm_oauth';
export const STATE_COOKIE_PATH = '/console/auth';
/** A sign-in round trip to WeCom must finish within this (the OAuth code itself lives 5 minutes). */
export const STATE_TTL_S = 600;

export interface SignInState {
  corpId: string;
  /** Where to go after sign-in (already checked by safeNext). */
  next: string;
}

const payloadSchema = z.object({
  n: z.string().regex(/^[a-f0-9]{32}$/),
  c: z.string().max(64),
  x: z.string().max(512),
  e: z.number().int(),
});

/**
 * OAuth sign-in state without server storage (docs/security.md, "Console sign-in"). `begin`
 * returns the `state` query parameter (a random nonce plus its HMAC: letters and digits only,
 * as WeCom allows) and a cookie value holding the nonce, corp, target and expiry under an HMAC.
 * `finish` accepts a callback only when the `state` it carries is the one of the cookie in the
 * same browser, so a sign-in started by someone else (login CSRF: the victim would end up
 * signed in as the attacker) or a replayed callback URL is refused; the route clears the cookie
 * after one use. Nothing is written to Redis, so unauthenticated requests cannot grow it.
 */
export class SignInStates {
  private readonly key: Buffer;

  constructor(
    signingSecret: Buffer,
    private readonly nowMs: () => number,
  ) {
    this.key = createHmac('sha256', signingSecret).update('console-oauth-state-cookie').digest();
  }

  begin(data: SignInState): { state: string; cookie: string } {
    const nonce = randomBytes(16).toString('hex');
    const payload = Buffer.from(
      JSON.stringify({ n: nonce, c: data.corpId, x: data.next, e: this.nowMs() + STATE_TTL_S * 1000 }),
    ).toString('base64url');
    return {
      state: nonce + this.mac(`state.${nonce}`).toString('hex').slice(0, 32),
      cookie: `${payload}.${this.mac(`cookie.${payload}`).toString('base64url')}`,
    };
  }

  /** The state's data when `state` matches the (authentic, unexpired) cookie; otherwise undefined. */
  finish(state: string, cookie: string | undefined): SignInState | undefined {
    if (!/^[a-f0-9]{64}$/.test(state) || !cookie) return undefined;
    const nonce = state.slice(0, 32);
    if (!equal(Buffer.from(state.slice(32)), Buffer.from(this.mac(`state.${nonce}`).toString('hex').slice(0, 32))))
      return undefined;
    const [payload, mac] = cookie.split('.');
    if (!payload || !mac || !equal(Buffer.from(mac, 'base64url'), this.mac(`cookie.${payload}`))) return undefined;
    let parsed: z.infer<typeof payloadSchema>;
    try {
      const result = payloadSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
      if (!result.success) return undefined;
      parsed = result.data;
    } catch {
      return undefined;
    }
    if (parsed.e <= this.nowMs() || !equal(Buffer.from(parsed.n), Buffer.from(nonce))) return undefined;
    return { corpId: parsed.c, next: parsed.x };
  }

  private mac(value: string): Buffer {
    return createHmac('sha256', this.key).update(value).digest();
  }
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
