import type { Clock } from '../../../src/infra/clock.js';
import { newAccessToken } from '../world/ids.js';

export type TicketKind = 'corp' | 'agent';

interface IssuedTicket {
  ticket: string;
  expiresAtMs: number;
}

/** Fetches allowed per hour (docs/wecom.md §10.2): 400 per corp for the corp ticket, 100 per app for the app ticket. */
export const TICKET_LIMITS_PER_HOUR: Record<TicketKind, number> = { corp: 400, agent: 100 };

/**
 * The JS-SDK tickets of every corp app (docs/wecom.md §10.2): 7200 s, the same ticket for repeated
 * fetches while valid, and an hourly fetch limit per corp / app (45009 past it). The sandbox keeps
 * every ticket it issued, so the JS-SDK stand-in can check a page's signature as WeCom would.
 */
export class TicketStore {
  private readonly current = new Map<string, IssuedTicket>();
  private readonly fetches = new Map<string, number[]>();
  ttlSec = 7200;
  limits: Record<TicketKind, number> = { ...TICKET_LIMITS_PER_HOUR };

  constructor(private readonly clock: Clock) {}

  /** A fetch: the valid ticket (or a new one), or `limited` past the hourly limit. */
  fetch(corpId: string, agentId: number, kind: TicketKind): { ticket: string; expiresIn: number } | 'limited' {
    const now = this.clock.nowMs();
    const limitKey = kind === 'corp' ? `corp|${corpId}` : `agent|${corpId}|${agentId}`;
    const recent = (this.fetches.get(limitKey) ?? []).filter((t) => now - t < 3600_000);
    if (recent.length >= this.limits[kind]) {
      this.fetches.set(limitKey, recent);
      return 'limited';
    }
    recent.push(now);
    this.fetches.set(limitKey, recent);
    const key = `${kind}|${corpId}|${agentId}`;
    let issued = this.current.get(key);
    if (!issued || issued.expiresAtMs <= now) {
      issued = { ticket: newAccessToken(), expiresAtMs: now + this.ttlSec * 1000 };
      this.current.set(key, issued);
    }
    return { ticket: issued.ticket, expiresIn: Math.max(1, Math.round((issued.expiresAtMs - now) / 1000)) };
  }

  /** The valid ticket, if one was issued (for signature checks). */
  valid(corpId: string, agentId: number, kind: TicketKind): string | undefined {
    const issued = this.current.get(`${kind}|${corpId}|${agentId}`);
    return issued && issued.expiresAtMs > this.clock.nowMs() ? issued.ticket : undefined;
  }

  /** How many fetches of this kind the corp made in the last hour. */
  fetchCount(corpId: string, kind: TicketKind): number {
    const now = this.clock.nowMs();
    let n = 0;
    for (const [key, times] of this.fetches) {
      if (key.startsWith(`${kind}|${corpId}`)) n += times.filter((t) => now - t < 3600_000).length;
    }
    return n;
  }

  reset(): void {
    this.current.clear();
    this.fetches.clear();
    this.limits = { ...TICKET_LIMITS_PER_HOUR };
    this.ttlSec = 7200;
  }
}
