import type { Clock } from '../../../src/infra/clock.js';
import { newAccessToken } from '../world/ids.js';

interface IssuedToken {
  token: string;
  corpId: string;
  expiresAtMs: number;
}

export type TokenCheck = { ok: true; corpId: string } | { ok: false; errcode: 40014 | 42001 | 41001 };

/**
 * Access tokens per corp app (docs/wecom.md §3.1): `expires_in` 7200 s by default; repeated gettoken
 * calls within validity return the same token and extend it; `invalidate()` drops tokens early
 * (WeCom may invalidate them at any time: clients must refresh on 40014/42001).
 */
export class TokenStore {
  private readonly byToken = new Map<string, IssuedToken>();
  private readonly current = new Map<string, IssuedToken>();
  ttlSec = 7200;

  constructor(private readonly clock: Clock) {}

  issue(corpId: string): { token: string; expiresIn: number } {
    const now = this.clock.nowMs();
    const existing = this.current.get(corpId);
    if (existing && existing.expiresAtMs > now) {
      existing.expiresAtMs = now + this.ttlSec * 1000;
      return { token: existing.token, expiresIn: this.ttlSec };
    }
    const issued: IssuedToken = { token: newAccessToken(), corpId, expiresAtMs: now + this.ttlSec * 1000 };
    this.byToken.set(issued.token, issued);
    this.current.set(corpId, issued);
    return { token: issued.token, expiresIn: this.ttlSec };
  }

  check(token: string | undefined): TokenCheck {
    if (!token) return { ok: false, errcode: 41001 };
    const issued = this.byToken.get(token);
    if (!issued) return { ok: false, errcode: 40014 };
    if (issued.expiresAtMs <= this.clock.nowMs()) return { ok: false, errcode: 42001 };
    return { ok: true, corpId: issued.corpId };
  }

  /** Early invalidation: every token of the corp (or of all corps) stops working now. */
  invalidate(corpId?: string): number {
    let n = 0;
    for (const [token, issued] of this.byToken) {
      if (!corpId || issued.corpId === corpId) {
        this.byToken.delete(token);
        this.current.delete(issued.corpId);
        n += 1;
      }
    }
    return n;
  }

  reset(): void {
    this.byToken.clear();
    this.current.clear();
  }
}
