import { describe, expect, it } from 'vitest';
import { dayjs, type Dayjs } from './clock.js';
import { exactOffset, offsetAt, pluginTz } from './fast-tz.js';

// Zones with daylight saving in either hemisphere, half- and quarter-hour offsets, a 30-minute
// DST (Lord Howe), a 2-hour DST (Troll), negative DST (Dublin), DST that moves with Ramadan
// (Casablanca), zones that dropped DST or skipped a day, and the dealers' own zone.
const ZONES = [
  'Asia/Shanghai',
  'UTC',
  'Etc/GMT+12',
  'Pacific/Kiritimati',
  'America/New_York',
  'America/Los_Angeles',
  'America/St_Johns',
  'America/Santiago',
  'America/Sao_Paulo',
  'Europe/London',
  'Europe/Dublin',
  'Europe/Berlin',
  'Europe/Moscow',
  'Africa/Casablanca',
  'Asia/Tehran',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Sydney',
  'Australia/Adelaide',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Pacific/Apia',
  'Antarctica/Troll',
];

const describeTz = (d: Dayjs) => ({
  valueOf: d.valueOf(),
  offset: d.utcOffset(),
  text: d.format('YYYY-MM-DD HH:mm:ss.SSS Z'),
  zone: (d as unknown as { $x: { $timezone?: string } }).$x.$timezone,
  hour: d.hour(),
  daysInMonth: d.daysInMonth(),
  startOfDay: d.startOf('day').valueOf(),
  startOfMonth: d.startOf('month').format('YYYY-MM-DD HH:mm Z'),
  plusDay: d.add(1, 'day').format('YYYY-MM-DD HH:mm:ss Z'),
  iso: d.toISOString(),
});

const viaPlugin = (d: Dayjs, zone: string, keepLocalTime?: boolean) => pluginTz.tz!.call(d, zone, keepLocalTime);

/** Instants around every offset change of `zone` in [fromYear, toYear), found by a 6-hour scan. */
function aroundChanges(zone: string, fromYear: number, toYear: number): number[] {
  const out: number[] = [];
  const step = 6 * 3_600_000;
  let t = Date.UTC(fromYear, 0, 1);
  const end = Date.UTC(toYear, 0, 1);
  let previous = exactOffset(t, zone);
  for (t += step; t < end; t += step) {
    const offset = exactOffset(t, zone);
    if (offset === previous) continue;
    let lo = t - step;
    let hi = t;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (exactOffset(mid, zone) === previous) lo = mid;
      else hi = mid;
    }
    for (const delta of [-5_400_000, -3_600_000, -1_800_000, -60_000, -1000, -1, 0, 1, 999, 1000, 1_800_000, 3_599_999])
      out.push(hi + delta);
    previous = offset;
  }
  return out;
}

describe('fast tz (src/infra/fast-tz.ts)', () => {
  it('gives what the dayjs timezone plugin gives around every offset change, 2019–2027', () => {
    let checked = 0;
    for (const zone of ZONES) {
      const instants = aroundChanges(zone, 2019, 2028);
      // Twice: the second pass reads the kept offsets.
      for (const pass of [1, 2])
        for (const ms of instants) {
          expect(describeTz(dayjs.utc(ms).tz(zone)), `${zone} ${ms} pass ${pass}`).toEqual(
            describeTz(viaPlugin(dayjs.utc(ms), zone)),
          );
          checked += 1;
        }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('gives what the plugin gives for any zone at random instants, from local, UTC and zoned dates, keepLocalTime too', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const zones = Intl.supportedValuesOf('timeZone');
    expect(zones.length).toBeGreaterThan(300);
    for (const zone of zones)
      for (let i = 0; i < 6; i++) {
        // 1900–2200: the kept offsets cover 1971–2199, the rest is computed each time.
        const ms = Math.round(Date.UTC(1900, 0, 1) + random() * (Date.UTC(2200, 0, 1) - Date.UTC(1900, 0, 1)));
        const label = `${zone} ${ms}`;
        expect(describeTz(dayjs.utc(ms).tz(zone)), label).toEqual(describeTz(viaPlugin(dayjs.utc(ms), zone)));
        expect(describeTz(dayjs(ms).tz(zone)), label).toEqual(describeTz(viaPlugin(dayjs(ms), zone)));
        const zoned = viaPlugin(dayjs.utc(ms), 'America/New_York');
        expect(describeTz(zoned.tz(zone)), label).toEqual(describeTz(viaPlugin(zoned, zone)));
        expect(describeTz(dayjs.utc(ms).tz(zone, true)), label).toEqual(
          describeTz(viaPlugin(dayjs.utc(ms), zone, true)),
        );
      }
  });

  it('parses a wall time in a zone as the plugin does, in gaps and overlaps too', () => {
    const texts = [
      '2026-12-07 10:00',
      '2026-03-08 02:30', // New York: a wall time that does not exist
      '2026-11-01 01:30', // New York: a wall time that exists twice
      '2026-03-29 01:30', // London: gap
      '2026-10-25 01:30', // London: overlap
      '2026-10-04 02:15', // Lord Howe: 30-minute gap
      '2026-04-05 01:45', // Lord Howe: 30-minute overlap
      '2026-02-28',
      '2024-02-29 23:59',
      'not a date',
    ];
    for (const zone of ZONES)
      for (const text of texts) {
        const fast = dayjs.tz(text, zone);
        const plugin = pluginTz.staticTz!(text, zone);
        if (!plugin.isValid()) {
          expect(fast.isValid(), `${zone} ${text}`).toBe(false);
          continue;
        }
        expect(describeTz(fast), `${zone} ${text}`).toEqual(describeTz(plugin));
      }
    expect(dayjs.tz('2026-12-07 10:00:00', 'YYYY-MM-DD HH:mm:ss', 'Asia/Shanghai').toISOString()).toBe(
      '2026-12-07T02:00:00.000Z',
    );
    expect(dayjs.tz(new Date('2026-12-07T02:00:00Z'), 'Asia/Shanghai').format('YYYY-MM-DD HH:mm')).toBe(
      '2026-12-07 10:00',
    );
  });

  it('refuses an unknown zone as the plugin does', () => {
    expect(() => viaPlugin(dayjs.utc(0), 'Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => dayjs.utc(Date.UTC(2026, 11, 7)).tz('Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => dayjs.tz('2026-12-07 10:00', 'Mars/Olympus_Mons')).toThrow(RangeError);
  });

  it('keeps an hour in which the offset changes out of the kept offsets', () => {
    // Lord Howe enters DST (+10:30 → +11) at 2026-10-03T15:30Z, in the middle of a UTC hour.
    const change = Date.UTC(2026, 9, 3, 15, 30);
    expect(exactOffset(change - 1000, 'Australia/Lord_Howe')).toBe(630);
    expect(exactOffset(change, 'Australia/Lord_Howe')).toBe(660);
    for (const ms of [change + 10 * 60_000, change - 10 * 60_000, change + 20 * 60_000, change - 20 * 60_000])
      expect(offsetAt(ms, 'Australia/Lord_Howe')).toBe(exactOffset(ms, 'Australia/Lord_Howe'));
  });
});
