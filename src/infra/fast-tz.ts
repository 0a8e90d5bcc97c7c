import type { Dayjs, PluginFunc } from 'dayjs';

/**
 * A faster `tz()` for dayjs's timezone plugin, with the same results (docs/scale.md §4).
 *
 * The plugin's `instance.tz(zone)` formats the instant with `toLocaleString` (a new
 * `Intl.DateTimeFormat` on every call), parses that text back, and works out the zone's offset
 * with `formatToParts` and a second text parse; `dayjs.tz(text, zone)` does the offset part twice
 * more. Per add the rules' follow-up dates run this a few times, and it was a visible share of the
 * worker's CPU. Here the offset comes from one kept `Intl.DateTimeFormat` per zone and is kept per
 * zone and UTC hour when that whole hour has one offset (the offsets at its first and last second
 * agree: no zone changes offset twice within an hour); an hour with a change in it, and any instant
 * outside 1971–2199, is computed exactly every time. The zone's wall time is then built from the
 * instant plus the offset, which is what the plugin parses out of its text. Anything else (no zone
 * given, so the plugin's default; an invalid date) goes to the plugin's own code.
 *
 * Installed after `utc` and `timezone` (src/infra/clock.ts).
 */

type TzInstance = Dayjs & {
  $L: string;
  $ms: number;
  $x: Record<string, unknown>;
};
type TzMethod = (this: Dayjs, timezone?: string, keepLocalTime?: boolean) => Dayjs;
type StaticTz = ((input: unknown, arg1?: string, arg2?: string) => Dayjs) & Record<string, unknown>;

const HOUR_MS = 3_600_000;
/** 1971-01-01 and 2200-01-01: the range where the kept offsets are used. */
const FAST_FROM_MS = 31_536_000_000;
const FAST_UNTIL_MS = 7_258_118_400_000;
const MAX_KEPT = 50_000;

const formats = new Map<string, Intl.DateTimeFormat>();
/** zone → UTC hour index → offset in minutes (NaN: the offset changes inside that hour). */
const kept = new Map<string, Map<number, number>>();
let keptCount = 0;

function formatFor(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone);
  if (!format) {
    // The options of the plugin's own offset lookup (its `getDateTimeFormat`).
    format = new Intl.DateTimeFormat('en-US', {
      hour12: false,
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
    });
    formats.set(zone, format);
  }
  return format;
}

/** The plugin's `tzOffset`: minutes the zone's wall clock is ahead of UTC at `ms` (whole seconds). */
export function exactOffset(ms: number, zone: string): number {
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatFor(zone).formatToParts(new Date(ms))) {
    switch (part.type) {
      case 'year':
        year = parseInt(part.value, 10);
        break;
      case 'month':
        month = parseInt(part.value, 10);
        break;
      case 'day':
        day = parseInt(part.value, 10);
        break;
      case 'hour':
        hour = parseInt(part.value, 10);
        break;
      case 'minute':
        minute = parseInt(part.value, 10);
        break;
      case 'second':
        second = parseInt(part.value, 10);
        break;
      default:
        break;
    }
  }
  // Some ICU versions print midnight as 24 with hour12 off (the plugin does the same).
  const wall = Date.UTC(year, month - 1, day, hour === 24 ? 0 : hour, minute, second, 0);
  return (wall - (ms - (ms % 1000))) / 60_000;
}

/** The zone's offset at `ms`, kept per zone and UTC hour (see above). */
export function offsetAt(ms: number, zone: string): number {
  if (!(ms >= FAST_FROM_MS && ms < FAST_UNTIL_MS)) return exactOffset(ms, zone);
  let hours = kept.get(zone);
  if (!hours) {
    hours = new Map();
    kept.set(zone, hours);
  }
  const hourIndex = Math.floor(ms / HOUR_MS);
  let offset = hours.get(hourIndex);
  if (offset === undefined) {
    const start = hourIndex * HOUR_MS;
    const first = exactOffset(start, zone);
    const last = exactOffset(start + HOUR_MS - 1000, zone);
    offset = first === last ? first : NaN;
    if (keptCount >= MAX_KEPT) {
      kept.clear();
      keptCount = 0;
      hours = new Map();
      kept.set(zone, hours);
    }
    hours.set(hourIndex, offset);
    keptCount += 1;
  }
  return Number.isNaN(offset) ? exactOffset(ms, zone) : offset;
}

/** The plugin's `fixOffset`: the UTC instant and offset of a wall time `localTs` in `zone`, guessing `o0` first. */
function fixOffset(localTs: number, o0: number, zone: string): [number, number] {
  let utcGuess = localTs - o0 * 60_000;
  const o2 = offsetAt(utcGuess, zone);
  if (o0 === o2) return [utcGuess, o0];
  utcGuess -= (o2 - o0) * 60_000;
  const o3 = offsetAt(utcGuess, zone);
  if (o2 === o3) return [utcGuess, o2];
  return [localTs - Math.min(o2, o3) * 60_000, Math.max(o2, o3)];
}

/** The plugin's own methods, kept for what is not done here (and for the equivalence test). */
export const pluginTz: { tz?: TzMethod; staticTz?: StaticTz } = {};

export const fastTz: PluginFunc = (_options, dayjsClass, factory) => {
  const proto = dayjsClass.prototype as unknown as { tz: TzMethod };
  const original = proto.tz;
  const originalStatic = factory.tz as unknown as StaticTz;
  if (!original || !originalStatic) throw new Error('fast-tz: install the dayjs utc and timezone plugins first');
  pluginTz.tz = original;
  pluginTz.staticTz = originalStatic;

  proto.tz = function (this: Dayjs, timezone?: string, keepLocalTime?: boolean): Dayjs {
    if (timezone === undefined || !this.isValid()) return original.call(this, timezone, keepLocalTime);
    const self = this as TzInstance;
    const oldOffset = this.utcOffset();
    const ms = this.valueOf();
    const offset = offsetAt(ms, timezone);
    let ins: Dayjs;
    if (!Number(offset)) {
      ins = this.utcOffset(0, keepLocalTime);
    } else {
      // The zone's wall time to the second, as the plugin reads it from `toLocaleString`.
      const wall = new Date(ms - (ms % 1000) + offset * 60_000);
      const local = new Date(
        wall.getUTCFullYear(),
        wall.getUTCMonth(),
        wall.getUTCDate(),
        wall.getUTCHours(),
        wall.getUTCMinutes(),
        wall.getUTCSeconds(),
        self.$ms,
      );
      ins = factory(local, { locale: self.$L } as never).utcOffset(offset, true);
      if (keepLocalTime) ins = ins.add(oldOffset - ins.utcOffset(), 'minute');
    }
    (ins as TzInstance).$x.$timezone = timezone;
    return ins;
  };

  const staticTz = function (input: unknown, arg1?: string, arg2?: string): Dayjs {
    const parseFormat = arg2 && arg1;
    const timezone = arg2 || arg1;
    if (timezone === undefined || typeof input !== 'string') return originalStatic(input, arg1, arg2);
    const localTs = factory.utc(input, parseFormat).valueOf();
    if (Number.isNaN(localTs)) return originalStatic(input, arg1, arg2);
    const previousOffset = offsetAt(Date.now(), timezone);
    const [targetTs, targetOffset] = fixOffset(localTs, previousOffset, timezone);
    const ins = factory(targetTs).utcOffset(targetOffset);
    (ins as TzInstance).$x.$timezone = timezone;
    return ins;
  } as StaticTz;
  // `guess` and `setDefault` stay the plugin's.
  for (const key of Object.keys(originalStatic)) staticTz[key] = originalStatic[key];
  (factory as unknown as { tz: StaticTz }).tz = staticTz;
};
