/**
 * The fast path through a callback body (docs/architecture.md §3 steps 1 and 4): refuse DTDs and entities,
 * check the `<xml>…</xml>` frame and pull out the one `<Encrypt>` value, without building an
 * XML tree. The full parse of the decrypted event happens in the worker (src/wecom/events.ts).
 */

export type EnvelopeProblem = 'forbidden_dtd' | 'not_xml' | 'no_encrypt' | 'duplicate_encrypt' | 'bad_encrypt';

export type EnvelopeResult = { ok: true; encrypt: string } | { ok: false; reason: EnvelopeProblem };

const DTD_RE = /<!DOCTYPE|<!ENTITY/i;
const FRAME_START_RE = /^\s*(?:<\?xml[^>]{0,200}\?>\s*)?<xml>/;
const FRAME_END_RE = /<\/xml>\s*$/;
const CDATA_OPEN = '<![CDATA[';
const CDATA_CLOSE = ']]>';

/** True when text carries a DTD or entity declaration (XXE, billion laughs): refused before any parsing. */
export function hasForbiddenDtd(text: string): boolean {
  return DTD_RE.test(text);
}

/** Extracts `Encrypt` from a WeCom POST body (docs/wecom.md §1.4). */
export function extractEncrypt(body: string): EnvelopeResult {
  if (hasForbiddenDtd(body)) return { ok: false, reason: 'forbidden_dtd' };
  if (!FRAME_START_RE.test(body) || !FRAME_END_RE.test(body)) return { ok: false, reason: 'not_xml' };
  const open = body.indexOf('<Encrypt>');
  if (open < 0) return { ok: false, reason: 'no_encrypt' };
  const start = open + '<Encrypt>'.length;
  const close = body.indexOf('</Encrypt>', start);
  if (close < 0) return { ok: false, reason: 'not_xml' };
  if (body.indexOf('<Encrypt', close) >= 0 || body.lastIndexOf('<Encrypt', open - 1) >= 0)
    return { ok: false, reason: 'duplicate_encrypt' };
  let value = body.slice(start, close).trim();
  if (value.startsWith(CDATA_OPEN)) {
    if (!value.endsWith(CDATA_CLOSE)) return { ok: false, reason: 'not_xml' };
    value = value.slice(CDATA_OPEN.length, -CDATA_CLOSE.length);
  }
  // Its base64 is checked where it is decoded (decryptCallback), after the signature: one pass, not two.
  if (value.length === 0) return { ok: false, reason: 'bad_encrypt' };
  return { ok: true, encrypt: value };
}

/**
 * The text of the first `<name>` element of a flat WeCom event (CDATA unwrapped), read with
 * indexOf like `extractEncrypt`: for the few fields the web process acts on itself (the welcome
 * lane), where building a tree per callback would cost more than the rest of the path.
 */
export function readElementText(xml: string, name: string): string | undefined {
  const [openTag, closeTag] = tagsOf(name);
  const open = xml.indexOf(openTag);
  if (open < 0) return undefined;
  const start = open + openTag.length;
  const close = xml.indexOf(closeTag, start);
  if (close < 0) return undefined;
  const value = xml.slice(start, close);
  return value.startsWith(CDATA_OPEN) && value.endsWith(CDATA_CLOSE)
    ? value.slice(CDATA_OPEN.length, -CDATA_CLOSE.length)
    : value;
}

/** `<name>` and `</name>`, built once per element name (a handful, read on every add event). */
const tagCache = new Map<string, readonly [string, string]>();
function tagsOf(name: string): readonly [string, string] {
  let tags = tagCache.get(name);
  if (!tags) {
    tags = [`<${name}>`, `</${name}>`];
    tagCache.set(name, tags);
  }
  return tags;
}

/** A decrypted event must itself look like `<xml>…</xml>` and carry no DTD (XXE in the inner XML). */
export function checkInnerXml(xml: string): EnvelopeProblem | undefined {
  if (hasForbiddenDtd(xml)) return 'forbidden_dtd';
  if (!FRAME_START_RE.test(xml) || !FRAME_END_RE.test(xml)) return 'not_xml';
  return undefined;
}
