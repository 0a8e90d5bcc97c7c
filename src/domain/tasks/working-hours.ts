import { dayjs } from '../../infra/clock.js';
import { atLocalTime, minuteOfDay, parseLocalTime } from '../rules/durations.js';
import type { TaskSettings } from './task-settings.js';

/** Whether `at` is inside the corp's working hours [start, end) local time. */
export function inWorkingHours(at: Date, hours: TaskSettings['workingHours'], timeZone: string): boolean {
  const local = dayjs.utc(at).tz(timeZone);
  const m = local.hour() * 60 + local.minute();
  const start = minuteOfDay(parseLocalTime(hours.start));
  const end = minuteOfDay(parseLocalTime(hours.end));
  return start <= end ? m >= start && m < end : m >= start || m < end;
}

/**
 * The first moment at or after `at` inside working hours (docs/tasks.md: cards due outside hours are
 * sent at the next start), in the corp's zone.
 */
export function nextWorkingTime(at: Date, hours: TaskSettings['workingHours'], timeZone: string): Date {
  if (inWorkingHours(at, hours, timeZone)) return at;
  const start = parseLocalTime(hours.start);
  const local = dayjs.utc(at).tz(timeZone);
  const today = atLocalTime(local, start, timeZone);
  return (today.valueOf() > at.getTime() ? today : atLocalTime(local.add(1, 'day'), start, timeZone)).toDate();
}
