import dayjs, { type Dayjs } from 'dayjs';
import utc from 'dayjs/plugin/utc.js';
import timezone from 'dayjs/plugin/timezone.js';
import type { Redis } from 'ioredis';
import { fastTz } from './fast-tz.js';
import { Ticker } from './periodic.js';

dayjs.extend(utc);
dayjs.extend(timezone);
// The same `tz()` results at a fraction of the plugin's cost (src/infra/fast-tz.ts).
dayjs.extend(fastTz);

export { dayjs, type Dayjs };

/** The one source of "now" in the bot, the worker and the WeCom sandbox (docs/architecture.md §6). */
export interface Clock {
  now(): Date;
  nowMs(): number;
  /** `now` as a dayjs in the given IANA zone (default UTC). */
  at(timeZone?: string): Dayjs;
}

abstract class BaseClock implements Clock {
  abstract nowMs(): number;
  now(): Date {
    return new Date(this.nowMs());
  }
  at(timeZone?: string): Dayjs {
    const base = dayjs.utc(this.nowMs());
    return timeZone ? base.tz(timeZone) : base;
  }
}

/** Real time. Production uses exactly this. */
export class SystemClock extends BaseClock {
  nowMs(): number {
    return Date.now();
  }
}

/** A clock tests set and advance by hand. */
export class ManualClock extends BaseClock {
  constructor(private current: number = Date.now()) {
    super();
  }
  nowMs(): number {
    return this.current;
  }
  set(time: Date | number): void {
    this.current = typeof time === 'number' ? time : time.getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export const clockOffsetKey = (prefix: string): string => `${prefix}:clock:offset-ms`;

/**
 * Real time plus an offset shared through Redis, so web, worker and the WeCom sandbox move
 * together in tests and demos. The offset is polled (`refreshMs`) so `now()` stays synchronous;
 * `refresh()` reads it at once. Refused in production: business time must be real there.
 */
export class SharedOffsetClock extends BaseClock {
  private offsetMs = 0;
  private readonly ticker = new Ticker();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly refreshMs = 1000,
  ) {
    super();
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }

  async refresh(): Promise<number> {
    const raw = await this.redis.get(clockOffsetKey(this.prefix));
    const parsed = raw === null ? 0 : Number(raw);
    this.offsetMs = Number.isFinite(parsed) ? parsed : 0;
    return this.offsetMs;
  }

  /** Starts polling; failures keep the last known offset (Redis may be briefly away). */
  start(): this {
    this.ticker.start(this.refreshMs, () => void this.refresh().catch(() => undefined));
    return this;
  }

  stop(): void {
    this.ticker.stop();
  }
}

/** Sets the shared offset (ms ahead of real time). Throws in production. */
export async function setSharedClockOffset(
  redis: Redis,
  prefix: string,
  offsetMs: number,
  isProduction: boolean,
): Promise<void> {
  if (isProduction) throw new Error('the clock offset is a development and test feature; production refuses it');
  if (!Number.isFinite(offsetMs)) throw new Error('clock offset must be a finite number of milliseconds');
  await redis.set(clockOffsetKey(prefix), String(Math.trunc(offsetMs)));
}

/** The clock a process should use: real time in production, the shared offset elsewhere. */
export async function createProcessClock(
  redis: Redis,
  prefix: string,
  isProduction: boolean,
): Promise<Clock & { stop(): void }> {
  if (isProduction) return Object.assign(new SystemClock(), { stop: () => undefined });
  const clock = new SharedOffsetClock(redis, prefix);
  await clock.refresh().catch(() => 0);
  return clock.start();
}
