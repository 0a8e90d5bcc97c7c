/**
 * Durations as marketing reads and writes them in the form, mapped to the rule schema's strings
 * (src/domain/rules/durations.ts): a date offset `+150d at 10:00` is "150 天后 10:00", `-60d at
 * 09:30` is "60 天前 09:30"; a span `48h` is 48 hours. The patterns repeat the server's (the
 * console bundles no server code); the server validates again and answers 422 on a mismatch.
 */
const OFFSET = /^([+-])(\d{1,4})d at (([01]\d|2[0-3]):([0-5]\d))$/;
const SPAN = /^(\d{1,4})([dhm])$/;
const TIME = /^([01]?\d|2[0-3])[:：]([0-5]\d)$/;

export type Direction = 'after' | 'before';
export interface OffsetParts {
  direction: Direction;
  days: number;
  /** `HH:mm` */
  time: string;
}

export function parseOffset(offset: string): OffsetParts | undefined {
  const m = OFFSET.exec(offset);
  if (!m) return undefined;
  return { direction: m[1] === '-' ? 'before' : 'after', days: Number(m[2]), time: m[3] ?? '00:00' };
}

export function formatOffset(p: OffsetParts): string {
  return `${p.direction === 'before' && p.days !== 0 ? '-' : '+'}${p.days}d at ${p.time}`;
}

/** A typed time like `9:30` or `09：30` (full-width colon) as `09:30`; undefined when it is none. */
export function normalizeTime(text: string): string | undefined {
  const m = TIME.exec(text.trim());
  return m ? `${(m[1] ?? '0').padStart(2, '0')}:${m[2]}` : undefined;
}

/** `+150d at 10:00` → "150 天后 10:00" (zh-CN) or "150 days after, at 10:00" (en); `+0d` is "当天". */
export function offsetToWords(offset: string, locale: string): string {
  const p = parseOffset(offset);
  if (!p) return offset;
  if (locale === 'en')
    return p.days === 0
      ? `same day, at ${p.time}`
      : `${p.days} day${p.days === 1 ? '' : 's'} ${p.direction}, at ${p.time}`;
  return p.days === 0 ? `当天 ${p.time}` : `${p.days} 天${p.direction === 'after' ? '后' : '前'} ${p.time}`;
}

/**
 * Words back to the schema: "150 天后 10:00", "60天前 9:30", "当天 09:00", "150 days after 10:00",
 * "60 days before, at 09:30", "+150d at 10:00" (already the schema's form). Undefined when the
 * text is none of these.
 */
export function wordsToOffset(words: string): string | undefined {
  const text = words.trim().replace(/\s+/g, ' ');
  if (OFFSET.test(text)) return text;
  let m = /^(?:当天|same day),? ?(?:at )?(\S+)$/i.exec(text);
  if (m) {
    const time = normalizeTime(m[1] ?? '');
    return time ? formatOffset({ direction: 'after', days: 0, time }) : undefined;
  }
  m = /^(\d{1,4}) ?(?:天(后|前)|days? (after|before)),? ?(?:at )?(\S+)$/i.exec(text);
  if (!m) return undefined;
  const time = normalizeTime(m[4] ?? '');
  if (!time) return undefined;
  const before = m[2] === '前' || m[3]?.toLowerCase() === 'before';
  return formatOffset({ direction: before ? 'before' : 'after', days: Number(m[1]), time });
}

export type SpanUnit = 'd' | 'h' | 'm';
export interface SpanParts {
  amount: number;
  unit: SpanUnit;
}

export function parseSpan(span: string): SpanParts | undefined {
  const m = SPAN.exec(span);
  return m ? { amount: Number(m[1]), unit: (m[2] ?? 'd') as SpanUnit } : undefined;
}

export function formatSpan(p: SpanParts): string {
  return `${p.amount}${p.unit}`;
}

const spanUnits: Record<string, Record<SpanUnit, string>> = {
  'zh-CN': { d: '天', h: '小时', m: '分钟' },
  en: { d: 'days', h: 'hours', m: 'minutes' },
};

/** `48h` → "48 小时" / "48 hours". */
export function spanToWords(span: string, locale: string): string {
  const p = parseSpan(span);
  if (!p) return span;
  return `${p.amount} ${(spanUnits[locale] ?? spanUnits['zh-CN']!)[p.unit]}`;
}
