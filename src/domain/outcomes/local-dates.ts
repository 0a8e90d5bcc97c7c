import { dayjs } from '../../infra/clock.js';

/**
 * Calendar days in one zone for a batch (docs/outcomes.md, "Model"): a calendar date is midnight
 * in the corp's zone, a date-time is taken as given. Zone maths per call is slow and a batch
 * repeats few days, so midnights are memoised and days are read with one reused formatter.
 */
export function localDates(timeZone: string): {
  instant: (value: string | undefined) => Date | undefined;
  midnightOf: (at: Date) => Date;
} {
  const midnights = new Map<string, number>();
  const dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const midnightOfDay = (day: string) => {
    let ms = midnights.get(day);
    if (ms === undefined) {
      ms = dayjs.tz(day, timeZone).valueOf();
      midnights.set(day, ms);
    }
    return new Date(ms);
  };
  return {
    instant: (value) => {
      if (!value) return undefined;
      return /^\d{4}-\d{2}-\d{2}$/.test(value) ? midnightOfDay(value) : new Date(value);
    },
    midnightOf: (at) => midnightOfDay(dayFormat.format(at)),
  };
}
