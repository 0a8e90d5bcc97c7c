import { hash } from 'node:crypto';

const MSG_ID_RE = /<MsgId>\s*(?:<!\[CDATA\[)?\s*(\d{1,24})\s*(?:\]\]>)?\s*<\/MsgId>/;

/**
 * The de-duplication key of a decrypted callback (design §3 step 6, reference §1.7): the
 * `MsgId` for member messages, otherwise a SHA-1 of the decrypted XML. WeCom's own
 * FromUserName+CreateTime key would merge two customers added in the same second
 * (`FromUserName` is `sys`); a retry resends identical plaintext, so the hash catches retries
 * without merging different events.
 *
 * The key is also the BullMQ job id: no `:` and never all digits (BullMQ job-id rules).
 */
export function dedupKeyFor(corpId: string, xml: string): string {
  const msgId = MSG_ID_RE.exec(xml)?.[1];
  if (msgId) return `${corpId}-m${msgId}`;
  return `${corpId}-h${hash('sha1', xml, 'base64url')}`;
}
