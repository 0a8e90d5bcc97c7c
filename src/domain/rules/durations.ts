import { dayjs, type Dayjs } from '../../infra/clock.js';

/**
 * Durations and local times as marketing writes them (`3d`, `48h`, `30m`, `10:00`,
 * `+150d at 10:00`). Parsed here once; the schema uses the patterns, the engine the parsers.
 * Calendar arithmetic goes through dayjs (docs/architecture.md §13.6), so `1d` across a DST change in a
 * corp's zone is still "the same time tomorrow".
 */
export const DURATION_PATTERN = /^(\d{1,4})([dhm])$/;
export const LOCAL_TIME_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;
export const DATE_OFFSET_PATTERN = /^([+-])(\d{1,4})d at (([01]\d|2[0-3]):([0-5]\d))$/;

export type DurationUnit = 'day' | 'hour' | 'minute';
export interface Duration {
  amount: number;
  unit: DurationUnit;
}

const units: Record<string, DurationUnit> = { d: 'day', h: 'hour', m: 'minute' };

export function parseDuration(text: string): Duration {
  const m = DURATION_PATTERN.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return { amount: Number(m[1]), unit: units[m[2] ?? 'd'] ?? 'day' };
}

export function addDuration(at: Dayjs, text: string): Dayjs {
  const d = parseDuration(text);
  return at.add(d.amount, d.unit);
}

export function durationMs(text: string): number {
  const d = parseDuration(text);
  return d.amount * (d.unit === 'day' ? 86_400_000 : d.unit === 'hour' ? 3_600_000 : 60_000);
}

export interface LocalTime {
  hour: number;
  minute: number;
}

export function parseLocalTime(text: string): LocalTime {
  const m = LOCAL_TIME_PATTERN.exec(text);
  if (!m) throw new Error(`not a local time: ${text}`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** Minutes since local midnight. */
export function minuteOfDay(t: LocalTime): number {
  return t.hour * 60 + t.minute;
}

export interface DateOffset {
  days: number;
  at: LocalTime;
}

/** `+150d at 10:00` → 150 days after the anchor's calendar day, at 10:00 local. */
export function parseDateOffset(text: string): DateOffset {
  const m = DATE_OFFSET_PATTERN.exec(text);
  if (!m) throw new Error(`not a date offset: ${text}`);
  return { days: (m[1] === '-' ? -1 : 1) * Number(m[2]), at: parseLocalTime(m[3] ?? '') };
}

/**
 * The instant of local time `t` on the calendar day of `day` in `timeZone`. Built from the
 * formatted local date (not setters on a zoned dayjs) so DST gaps resolve the way dayjs.tz does.
 */
export function atLocalTime(day: Dayjs, t: LocalTime, timeZone: string): Dayjs {
  const ymd = day.tz(timeZone).format('YYYY-MM-DD');
  return dayjs.tz(`${ymd} ${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`, timeZone);
}
