import { dayjs } from '../../../infra/clock.js';
import { addDuration, atLocalTime, minuteOfDay, parseDuration, parseLocalTime } from '../durations.js';
import type { QuietHours } from '../../tasks/task-settings.js';
import type { Action, Guards } from '../rule.schema.js';

/** The quiet hours a rule runs under: its own guard when set (`null` = none), else the corp's. */
export function effectiveQuietHours(
  guards: Pick<Guards, 'quietHours'>,
  corpQuietHours: QuietHours | null,
): QuietHours | null {
  return guards.quietHours === undefined ? corpQuietHours : guards.quietHours;
}

/**
 * Quiet hours (docs/architecture.md §5): when `at` falls inside [start, end) local time (the window may wrap
 * midnight), the next allowed moment (`end` on the right day); otherwise `at` itself. Creating a
 * customer-message task moves; the advisor then chooses when to tap send.
 */
export function nextAllowedTime(at: Date, quiet: QuietHours | null, timeZone: string): Date {
  if (!quiet) return at;
  const local = dayjs.utc(at).tz(timeZone);
  const start = minuteOfDay(parseLocalTime(quiet.start));
  const endT = parseLocalTime(quiet.end);
  const end = minuteOfDay(endT);
  const m = local.hour() * 60 + local.minute();
  if (start === end) return at;
  const wraps = start > end;
  const inside = wraps ? m >= start || m < end : m >= start && m < end;
  if (!inside) return at;
  const endDay = wraps && m >= start ? local.add(1, 'day') : local;
  return atLocalTime(endDay, endT, timeZone).toDate();
}

/** The calendar month key (`2026-05`) of `at` in the corp's zone; caps count per month. */
export function monthKey(at: Date, timeZone: string): string {
  return dayjs.utc(at).tz(timeZone).format('YYYY-MM');
}

/** WeCom's per-customer monthly quota: as many mass messages as the month has days (docs/wecom.md §5). */
export function wecomMonthlyQuota(at: Date, timeZone: string): number {
  return dayjs.utc(at).tz(timeZone).daysInMonth();
}

/** The effective cap: the rule's, never beyond WeCom's quota. */
export function effectiveMonthlyCap(guards: Guards, at: Date, timeZone: string): number {
  return Math.min(guards.monthlyCap, wecomMonthlyQuota(at, timeZone));
}

/**
 * When a follow-up falls due: `from` plus `dueIn`, then at the local time of day `at` when
 * given (the same day, or the next day if that time already passed).
 */
export function followUpDueAt(action: Extract<Action, { type: 'follow_up' }>, from: Date, timeZone: string): Date {
  const due = addDuration(dayjs.utc(from).tz(timeZone), action.dueIn);
  if (!action.at) return due.toDate();
  const time = parseLocalTime(action.at);
  const local = atLocalTime(due, time, timeZone);
  // "3d at 10:00" is that calendar day at 10:00; "0d at 10:00" is the next 10:00 from now.
  if (parseDuration(action.dueIn).amount === 0 && local.valueOf() < due.valueOf())
    return atLocalTime(due.add(1, 'day'), time, timeZone).toDate();
  return local.toDate();
}
