import { hash } from 'node:crypto';

const MSG_ID_OPEN = '<MsgId>';
const MSG_ID_CLOSE = '</MsgId>';
const CDATA_OPEN = '<![CDATA[';
const CDATA_CLOSE = ']]>';

/**
 * The de-duplication key of a decrypted callback (docs/architecture.md §3 step 6, docs/wecom.md §1.7): the
 * `MsgId` for member messages, otherwise a SHA-1 of the decrypted XML. WeCom's own
 * FromUserName+CreateTime key would merge two customers added in the same second
 * (`FromUserName` is `sys`); a retry resends identical plaintext, so the hash catches retries
 * without merging different events.
 *
 * The key is also the BullMQ job id: no `:` and never all digits (BullMQ job-id rules).
 */
export function dedupKeyFor(corpId: string, xml: string): string {
  const msgId = readMsgId(xml);
  if (msgId) return `${corpId}-m${msgId}`;
  return `${corpId}-h${hash('sha1', xml, 'base64url')}`;
}

/**
 * The `<MsgId>` element's digits, read from the element itself and never from text inside a
 * CDATA section: a member's message `<Content>` comes before `<MsgId>` and may contain the
 * characters `<MsgId>1</MsgId>`, which must not make all their messages one key. One forward
 * pass with indexOf (linear in the length, no regular expression to backtrack).
 */
export function readMsgId(xml: string): string | undefined {
  let pos = 0;
  let open = -1;
  for (;;) {
    // Each search starts where the last stopped: `open` is searched again only once passed.
    if (open < pos) open = xml.indexOf(MSG_ID_OPEN, pos);
    if (open < 0) return undefined;
    const cdata = xml.indexOf(CDATA_OPEN, pos);
    if (cdata >= 0 && cdata < open) {
      // Skip the whole CDATA section, then look again after it.
      const end = xml.indexOf(CDATA_CLOSE, cdata + CDATA_OPEN.length);
      if (end < 0) return undefined;
      pos = end + CDATA_CLOSE.length;
      continue;
    }
    const start = open + MSG_ID_OPEN.length;
    const close = xml.indexOf(MSG_ID_CLOSE, start);
    if (close < 0 || close - start > 64) return undefined;
    let value = xml.slice(start, close).trim();
    if (value.startsWith(CDATA_OPEN) && value.endsWith(CDATA_CLOSE))
      value = value.slice(CDATA_OPEN.length, -CDATA_CLOSE.length).trim();
    return /^\d{1,24}$/.test(value) ? value : undefined;
  }
}
