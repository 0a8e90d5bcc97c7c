import { dayjs } from '../../infra/clock.js';

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** True for a real calendar date written `YYYY-MM-DD`. */
export function isLocalDay(s: string): boolean {
  return DAY_RE.test(s) && dayjs(s).isValid() && dayjs(s).format('YYYY-MM-DD') === s;
}

/** The UTC instants bounding a corp-local day: [start, end), DST-safe. */
export function dayBounds(day: string, timeZone: string): { start: Date; end: Date } {
  const start = dayjs.tz(day, timeZone).startOf('day');
  return { start: start.toDate(), end: start.add(1, 'day').toDate() };
}

/** The corp-local day of an instant. */
export function localDayOf(at: Date, timeZone: string): string {
  return dayjs(at).tz(timeZone).format('YYYY-MM-DD');
}

export function addDays(day: string, n: number): string {
  return dayjs(day).add(n, 'day').format('YYYY-MM-DD');
}

/** Days in [from, to), as `YYYY-MM-DD`. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d < to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The start of the period a day belongs to: itself, its ISO week's Monday, or the 1st of its month. */
export function periodStart(day: string, granularity: 'day' | 'week' | 'month'): string {
  const d = dayjs(day);
  if (granularity === 'day') return day;
  if (granularity === 'month') return d.startOf('month').format('YYYY-MM-DD');
  return d.subtract((d.day() + 6) % 7, 'day').format('YYYY-MM-DD');
}

export function isMonday(day: string): boolean {
  return dayjs(day).day() === 1;
}
