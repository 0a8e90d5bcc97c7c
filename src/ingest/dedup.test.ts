import { describe, expect, it } from 'vitest';
import { dedupKeyFor, readMsgId } from './dedup.js';

const message = (content: string, msgId: string) =>
  `<xml><ToUserName><![CDATA[wwdedup0001]]></ToUserName><FromUserName><![CDATA[zhangwei]]></FromUserName><CreateTime>1735700000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId><AgentID>1000002</AgentID></xml>`;

describe('the de-duplication key', () => {
  it('reads MsgId from the element, not from a message text that contains one', () => {
    const first = message('<MsgId>1</MsgId>', '7312345678901234567');
    const second = message('<MsgId>1</MsgId>', '7312345678901234568');
    expect(readMsgId(first)).toBe('7312345678901234567');
    expect(dedupKeyFor('wwdedup0001', first)).not.toBe(dedupKeyFor('wwdedup0001', second));
  });

  it('accepts CDATA and whitespace around the id, and hashes events without one', () => {
    expect(readMsgId('<xml><MsgId> <![CDATA[ 42 ]]> </MsgId></xml>')).toBe('42');
    expect(readMsgId('<xml><MsgId>abc</MsgId></xml>')).toBeUndefined();
    expect(dedupKeyFor('ww1', '<xml><Event>x</Event></xml>')).toMatch(/^ww1-h[A-Za-z0-9_-]{27}$/);
  });

  it('stays linear on hostile input (many unclosed tags and CDATA openers)', () => {
    const hostile = `<xml>${'<MsgId> '.repeat(8000)}${'<![CDATA['.repeat(4000)}</xml>`;
    expect(readMsgId(hostile)).toBeUndefined();
    const spaces = `<xml><MsgId>${' '.repeat(60_000)}1</xml>`;
    expect(readMsgId(spaces)).toBeUndefined();
    // Many CDATA sections before the element: each is skipped once.
    expect(readMsgId(`<xml>${'<a><![CDATA[x]]></a>'.repeat(3000)}<MsgId>9</MsgId></xml>`)).toBe('9');
  });
});
