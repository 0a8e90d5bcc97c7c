import { describe, expect, it } from 'vitest';
import {
  formatOffset,
  formatSpan,
  offsetToWords,
  parseOffset,
  parseSpan,
  spanToWords,
  wordsToOffset,
} from './durations.js';

describe('date offsets in words ↔ the rule schema', () => {
  it.each([
    ['+150d at 10:00', '150 天后 10:00', '150 days after, at 10:00'],
    ['-60d at 09:30', '60 天前 09:30', '60 days before, at 09:30'],
    ['+0d at 09:00', '当天 09:00', 'same day, at 09:00'],
    ['+1d at 23:59', '1 天后 23:59', '1 day after, at 23:59'],
  ])('%s ↔ "%s" ↔ "%s"', (schema, zh, en) => {
    expect(offsetToWords(schema, 'zh-CN')).toBe(zh);
    expect(offsetToWords(schema, 'en')).toBe(en);
    expect(wordsToOffset(zh)).toBe(schema);
    expect(wordsToOffset(en)).toBe(schema);
  });

  it('accepts what people type: no spaces, a single-digit hour, a full-width colon, the schema form itself', () => {
    expect(wordsToOffset('150天后 10:00')).toBe('+150d at 10:00');
    expect(wordsToOffset(' 60 天前  9:30 ')).toBe('-60d at 09:30');
    expect(wordsToOffset('7 天后 8：05')).toBe('+7d at 08:05');
    expect(wordsToOffset('60 days before 09:30')).toBe('-60d at 09:30');
    expect(wordsToOffset('-60d at 09:30')).toBe('-60d at 09:30');
  });

  it('refuses text that is not an offset, so the form can say how to write it', () => {
    for (const bad of ['', '明天', '150 天后', '150 天后 25:00', '99999 天后 10:00', '150d'])
      expect(wordsToOffset(bad)).toBeUndefined();
  });

  it('splits and joins the parts; 0 days is always "+"', () => {
    expect(parseOffset('-60d at 09:30')).toEqual({ direction: 'before', days: 60, time: '09:30' });
    expect(formatOffset({ direction: 'before', days: 0, time: '09:00' })).toBe('+0d at 09:00');
    expect(parseOffset('soon')).toBeUndefined();
  });
});

describe('spans', () => {
  it('maps 48h / 3d / 30m both ways and into words', () => {
    expect(parseSpan('48h')).toEqual({ amount: 48, unit: 'h' });
    expect(formatSpan({ amount: 3, unit: 'd' })).toBe('3d');
    expect(spanToWords('30m', 'zh-CN')).toBe('30 分钟');
    expect(spanToWords('3d', 'en')).toBe('3 days');
    expect(parseSpan('3 days')).toBeUndefined();
  });
});
