import { describe, expect, it } from 'vitest';
import { messages } from './i18n.js';

type Dict = { [key: string]: string | Dict };
function keys(d: Dict, prefix = ''): string[] {
  return Object.entries(d).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : keys(v, `${prefix}${k}.`)));
}

describe('console strings', () => {
  it('has every key in both Chinese and English, and no empty string', () => {
    const zh = keys(messages['zh-CN'] as Dict).sort();
    const en = keys(messages.en as Dict).sort();
    expect(zh.filter((k) => !en.includes(k))).toEqual([]);
    expect(en.filter((k) => !zh.includes(k))).toEqual([]);
    expect(zh.length).toBeGreaterThan(20);
  });
});
