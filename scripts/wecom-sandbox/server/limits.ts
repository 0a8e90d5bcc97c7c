import { z } from 'zod';

/** `POST /__sandbox/limits`: WeCom's throttles, tunable so tests can provoke them. */
export const limitsSchema = z.object({
  /** Calls per window per (corp, endpoint); WeCom: 10,000 per minute (docs/wecom.md §5). */
  defaultPerWindow: z.number().int().min(1).optional(),
  windowMs: z.number().int().min(10).optional(),
  /** After a 45009, the (corp, endpoint) stays blocked this long (WeCom: 60 s for the minute window). */
  blockMs: z.number().int().min(0).optional(),
  perEndpoint: z.record(z.string(), z.number().int().min(1)).optional(),
  /** Simulated processing time per endpoint (ms), so concurrency caps can bite. */
  latencyMs: z.record(z.string(), z.number().int().min(0).max(60_000)).optional(),
  /** mark_tag calls in flight per corp before 45033. */
  markTagConcurrency: z.number().int().min(1).optional(),
  /** Access token lifetime (s). */
  tokenTtlSec: z.number().int().min(1).optional(),
  /** App messages one member receives per clock minute before WeCom drops the rest silently (30). */
  appMessagesPerMemberMinute: z.number().int().min(1).optional(),
  /** … per clock hour (1,000). */
  appMessagesPerMemberHour: z.number().int().min(1).optional(),
  /** Recipient-sends per app per calendar day per account (200; the sandbox's accounts are the corp's members). */
  appMessagesPerAccountDay: z.number().int().min(1).optional(),
  /**
   * The strict mode of the per-member limit (server/member-limits.ts): a message beyond it is
   * refused with 45009 instead of dropped silently. Fields not given keep their value (or the
   * default: 30 in 60,000 ms, 1,000 an hour); `null` turns the mode off. Off by default.
   */
  strictMemberLimits: z
    .object({
      perWindow: z.number().int().min(1).optional(),
      windowMs: z.number().int().min(10).optional(),
      perHour: z.number().int().min(1).optional(),
    })
    .strict()
    .nullable()
    .optional(),
});

export type LimitsPatch = z.output<typeof limitsSchema>;

/** The strict per-member limit: at most `perWindow` messages in `windowMs` (real time) and `perHour` an hour. */
export interface MemberLimitConfig {
  perWindow: number;
  windowMs: number;
  perHour: number;
}

const STRICT_MEMBER_DEFAULTS: MemberLimitConfig = { perWindow: 30, windowMs: 60_000, perHour: 1000 };

export interface LimitsConfig {
  defaultPerWindow: number;
  windowMs: number;
  blockMs: number;
  perEndpoint: Record<string, number>;
  latencyMs: Record<string, number>;
  markTagConcurrency: number;
  appMessagesPerMemberMinute: number;
  appMessagesPerMemberHour: number;
  appMessagesPerAccountDay: number;
  /** The strict per-member mode when on (null: off, the excess is dropped silently). */
  strictMemberLimits: MemberLimitConfig | null;
}

/** How often a WeCom limit bit since the last reset: what a test or a bench checks stays 0. */
export interface LimitHits {
  /** Calls answered 45009 by the per-corp per-API window. */
  rateLimited: number;
  /** Recipients of an app message dropped silently: over 30 a minute or 1,000 an hour for that member. */
  memberMinuteDrops: number;
  memberHourDrops: number;
  /** `message/send` calls refused (45009) because the app's daily recipient quota was used up. */
  appDayRefused: number;
}

const noHits = (): LimitHits => ({ rateLimited: 0, memberMinuteDrops: 0, memberHourDrops: 0, appDayRefused: 0 });

export const defaultLimits = (): LimitsConfig => ({
  defaultPerWindow: 10_000,
  windowMs: 60_000,
  blockMs: 0,
  perEndpoint: {},
  latencyMs: {},
  markTagConcurrency: 5,
  appMessagesPerMemberMinute: 30,
  appMessagesPerMemberHour: 1000,
  appMessagesPerAccountDay: 200,
  strictMemberLimits: null,
});

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Fixed-window rate limit (real time, like WeCom's) and in-flight counters. */
export class Limits {
  config: LimitsConfig = defaultLimits();
  private windows = new Map<string, { start: number; count: number; blockedUntil: number }>();
  private inflight = new Map<string, number>();
  /** Per (corp, member): the clock minute and hour counted and how many messages each held. */
  private perMember = new Map<string, { minute: number; inMinute: number; hour: number; inHour: number }>();
  /** Per corp: the calendar day (sandbox clock, UTC+8) and recipient-sends counted on it. */
  private perAppDay = new Map<string, { day: number; sends: number }>();
  hits: LimitHits = noHits();

  apply(patch: LimitsPatch): LimitsConfig {
    const { tokenTtlSec: _ignored, ...rest } = patch;
    this.config = {
      ...this.config,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      perEndpoint: { ...this.config.perEndpoint, ...patch.perEndpoint },
      latencyMs: { ...this.config.latencyMs, ...patch.latencyMs },
      strictMemberLimits:
        patch.strictMemberLimits === undefined
          ? this.config.strictMemberLimits
          : patch.strictMemberLimits && {
              ...(this.config.strictMemberLimits ?? STRICT_MEMBER_DEFAULTS),
              ...Object.fromEntries(Object.entries(patch.strictMemberLimits).filter(([, v]) => v !== undefined)),
            },
    };
    this.windows.clear();
    return this.config;
  }

  /** Counts a call; false means 45009. */
  allow(corpId: string, endpoint: string): boolean {
    const key = `${corpId}|${endpoint}`;
    const now = Date.now();
    const limit = this.config.perEndpoint[endpoint] ?? this.config.defaultPerWindow;
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.config.windowMs) {
      w = { start: now, count: 0, blockedUntil: w?.blockedUntil ?? 0 };
      this.windows.set(key, w);
    }
    if (now < w.blockedUntil) {
      this.hits.rateLimited++;
      return false;
    }
    w.count += 1;
    if (w.count > limit) {
      if (this.config.blockMs > 0) w.blockedUntil = now + this.config.blockMs;
      this.hits.rateLimited++;
      return false;
    }
    return true;
  }

  /**
   * The app's daily recipient quota (docs/wecom.md §5: accounts × 200 recipient-sends a day, a
   * call to n members counting n). False: the call is refused. WeCom documents the quota, not
   * the error it answers; the sandbox answers 45009, the code of its other frequency limits.
   */
  takeAppDay(corpId: string, accounts: number, recipients: number, nowMs: number): boolean {
    const day = Math.floor((nowMs + 8 * HOUR_MS) / (24 * HOUR_MS));
    let d = this.perAppDay.get(corpId);
    if (!d || d.day !== day) {
      d = { day, sends: 0 };
      this.perAppDay.set(corpId, d);
    }
    if (d.sends + recipients > accounts * this.config.appMessagesPerAccountDay) {
      this.hits.appDayRefused++;
      return false;
    }
    d.sends += recipients;
    return true;
  }

  /**
   * Counts an app message to one member in the clock minute and hour (sandbox clock); false
   * means WeCom drops it silently (docs/wecom.md §5: 30 a minute, 1,000 an hour per member, the
   * call itself succeeds).
   */
  deliverToMember(corpId: string, userid: string, nowMs: number): boolean {
    const key = `${corpId}|${userid}`;
    const minute = Math.floor(nowMs / MINUTE_MS);
    const hour = Math.floor(nowMs / HOUR_MS);
    let m = this.perMember.get(key);
    if (!m) {
      m = { minute, inMinute: 0, hour, inHour: 0 };
      this.perMember.set(key, m);
    }
    if (m.minute !== minute) Object.assign(m, { minute, inMinute: 0 });
    if (m.hour !== hour) Object.assign(m, { hour, inHour: 0 });
    if (m.inMinute >= this.config.appMessagesPerMemberMinute) {
      this.hits.memberMinuteDrops++;
      return false;
    }
    if (m.inHour >= this.config.appMessagesPerMemberHour) {
      this.hits.memberHourDrops++;
      return false;
    }
    m.inMinute++;
    m.inHour++;
    return true;
  }

  enter(key: string): number {
    const n = (this.inflight.get(key) ?? 0) + 1;
    this.inflight.set(key, n);
    return n;
  }

  leave(key: string): void {
    const n = (this.inflight.get(key) ?? 1) - 1;
    if (n <= 0) this.inflight.delete(key);
    else this.inflight.set(key, n);
  }

  /** Zeroes the hit counters (the windows and quotas keep counting). */
  resetHits(): LimitHits {
    const before = this.hits;
    this.hits = noHits();
    return before;
  }

  reset(): void {
    this.config = defaultLimits();
    this.windows.clear();
    this.perMember.clear();
    this.perAppDay.clear();
    this.hits = noHits();
  }
}
