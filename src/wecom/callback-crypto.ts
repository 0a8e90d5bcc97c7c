import { createCipheriv, createDecipheriv, hash, randomBytes, timingSafeEqual, type Decipher } from 'node:crypto';

/**
 * WeCom callback crypto (docs/wecom.md §1.2–§1.5, doc 90968): signature, AES-256-CBC with a 32-byte
 * PKCS#7 block, and the `<xml><ToUserName/><Encrypt/><AgentID/></xml>` envelope. Shared by the
 * bot's receiver and the sandbox's callback driver, so tests sign with the production code.
 *
 * Byte-compatible with `@wecom/crypto` (round trips are tested both ways); we reimplement decrypt
 * because the library crashes or returns garbage on hostile input instead of rejecting it.
 */

export type CallbackCryptoErrorReason =
  'bad_key' | 'bad_base64' | 'bad_length' | 'bad_padding' | 'bad_message_length' | 'bad_utf8';

/** A malformed key or ciphertext. Receivers map it to HTTP 400, never 500. */
export class CallbackCryptoError extends Error {
  constructor(
    readonly reason: CallbackCryptoErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'CallbackCryptoError';
  }
}

const BLOCK = 32;
/** Throws on invalid UTF-8 instead of substituting U+FFFD; stateless between decode() calls. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const AES_KEY_RE = /^[A-Za-z0-9]{43}$/;

/** `msg_signature`: SHA-1 hex of the four values sorted as strings and concatenated (docs/wecom.md §1.2). */
export function signCallback(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return hash('sha1', [token, timestamp, nonce, encrypt].sort().join(''), 'hex');
}

/**
 * Checks `msg_signature` in constant time. Any length or type mismatch is simply `false`
 * (timingSafeEqual would throw on unequal lengths).
 */
export function verifySignature(
  token: string,
  timestamp: string,
  nonce: string,
  encrypt: string,
  signature: string,
): boolean {
  if (typeof signature !== 'string' || signature.length !== 40) return false;
  const expected = Buffer.from(signCallback(token, timestamp, nonce, encrypt), 'latin1');
  const given = Buffer.from(signature.toLowerCase(), 'latin1');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(expected, given);
}

/** Parsed keys by EncodingAESKey: one per corp and endpoint, read on every callback. */
const parsedKeys = new Map<string, { key: Buffer; iv: Buffer }>();
const PARSED_KEYS_MAX = 10_000;

/** `AESKey = base64(EncodingAESKey + "=")`, 32 bytes; the IV is its first 16 bytes (docs/wecom.md §1.2). */
export function parseEncodingAesKey(encodingAesKey: string): { key: Buffer; iv: Buffer } {
  const known = parsedKeys.get(encodingAesKey);
  if (known) return known;
  const parsed = decodeEncodingAesKey(encodingAesKey);
  if (parsedKeys.size >= PARSED_KEYS_MAX) parsedKeys.clear();
  parsedKeys.set(encodingAesKey, parsed);
  return parsed;
}

function decodeEncodingAesKey(encodingAesKey: string): { key: Buffer; iv: Buffer } {
  if (typeof encodingAesKey !== 'string' || !AES_KEY_RE.test(encodingAesKey)) {
    throw new CallbackCryptoError('bad_key', 'EncodingAESKey must be exactly 43 characters of [A-Za-z0-9]');
  }
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) throw new CallbackCryptoError('bad_key', 'EncodingAESKey does not decode to 32 bytes');
  return { key, iv: key.subarray(0, 16) };
}

/**
 * Decrypts an `Encrypt` / `echostr` value into the message and the receive id. Validates base64,
 * the 32-byte block size, PKCS#7 padding (1..32, all pad bytes equal) and the length field, and
 * throws CallbackCryptoError for anything malformed. It does NOT compare the receive id: the
 * caller must (docs/wecom.md §1.2, "do it yourself").
 */
export function decryptCallback(encodingAesKey: string, encrypt: string): { message: string; receiveId: string } {
  parseEncodingAesKey(encodingAesKey); // a malformed key is bad_key before anything else
  const cipherBytes = typeof encrypt === 'string' ? decodeCanonicalBase64(encrypt) : undefined;
  if (!cipherBytes) throw new CallbackCryptoError('bad_base64', 'ciphertext is not canonical base64');
  if (cipherBytes.length === 0 || cipherBytes.length % BLOCK !== 0) {
    throw new CallbackCryptoError(
      'bad_length',
      `ciphertext length ${cipherBytes.length} is not a positive multiple of ${BLOCK}`,
    );
  }
  const plain = decryptBlocks(encodingAesKey, cipherBytes);
  // Every check below reads only bytes after the 16 random ones (decryptBlocks' first block):
  // the length check comes before the pad bytes are compared, so they never reach into it.
  const pad = plain[plain.length - 1] ?? 0;
  if (pad < 1 || pad > BLOCK) throw new CallbackCryptoError('bad_padding', 'invalid PKCS#7 padding');
  const content = plain.subarray(0, plain.length - pad);
  if (content.length < 20)
    throw new CallbackCryptoError('bad_message_length', 'plaintext shorter than random + length header');
  for (let i = plain.length - pad; i < plain.length; i += 1) {
    if (plain[i] !== pad) throw new CallbackCryptoError('bad_padding', 'invalid PKCS#7 padding');
  }
  const msgLen = content.readUInt32BE(16);
  if (msgLen > content.length - 20)
    throw new CallbackCryptoError('bad_message_length', 'length field exceeds the plaintext');
  const decoder = STRICT_UTF8;
  try {
    return {
      message: decoder.decode(content.subarray(20, 20 + msgLen)),
      receiveId: decoder.decode(content.subarray(20 + msgLen)),
    };
  } catch {
    throw new CallbackCryptoError('bad_utf8', 'plaintext is not valid UTF-8');
  }
}

/** One running AES-256-CBC decipher per EncodingAESKey (see decryptBlocks). */
const chainedDeciphers = new Map<string, Decipher>();

/**
 * AES-256-CBC decryption of whole blocks without padding removal, on a decipher kept per key
 * instead of a new one per callback (creating one was ~5 µs of the ~8 µs a 1 KB callback's
 * decryption cost; bench:ingest). The kept decipher is never finalised, so each call chains from
 * the previous call's last ciphertext block rather than from the key's IV. In CBC that changes
 * only the first 16-byte block of the output (P1 = D(C1) XOR IV), and in WeCom's layout that
 * block is exactly the 16 random bytes, which nobody reads (docs/wecom.md §1.2); every later byte is
 * D(Ci) XOR C(i-1), independent of history. Inputs are whole blocks, so no state is carried in a
 * partial block. callback-crypto.test.ts checks sequences against fresh deciphers.
 */
function decryptBlocks(encodingAesKey: string, cipherBytes: Buffer): Buffer {
  let decipher = chainedDeciphers.get(encodingAesKey);
  if (!decipher) {
    const { key, iv } = parseEncodingAesKey(encodingAesKey);
    decipher = createDecipheriv('aes-256-cbc', key, iv);
    decipher.setAutoPadding(false);
    if (chainedDeciphers.size >= PARSED_KEYS_MAX) chainedDeciphers.clear();
    chainedDeciphers.set(encodingAesKey, decipher);
  }
  try {
    return decipher.update(cipherBytes);
  } catch (err) {
    chainedDeciphers.delete(encodingAesKey);
    throw err;
  }
}

/**
 * Decodes standard base64 with padding (`[A-Za-z0-9+/]+={0,2}`, length a multiple of 4), or
 * undefined for anything else. Node's decoder skips characters outside the alphabet, so once the
 * URL-safe letters and misplaced `=` are excluded, a decoded length short of 3/4 of the text
 * means a character was skipped: the same verdict as a regular expression over the text, at a
 * quarter of its cost on a 1.4 KB callback.
 */
export function decodeCanonicalBase64(text: string): Buffer | undefined {
  const length = text.length;
  if (length === 0 || length % 4 !== 0 || text.includes('-') || text.includes('_')) return undefined;
  const firstPad = text.indexOf('=');
  const pad = firstPad < 0 ? 0 : length - firstPad;
  if (pad > 2 || (pad === 2 && text[length - 1] !== '=')) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === (length / 4) * 3 - pad ? bytes : undefined;
}

/** Encrypts `random(16) | len(4, BE) | message | receiveId` with 32-byte PKCS#7 padding (docs/wecom.md §1.2). */
export function encryptCallback(
  encodingAesKey: string,
  message: string,
  receiveId: string,
  random: Buffer = randomBytes(16),
): string {
  const { key, iv } = parseEncodingAesKey(encodingAesKey);
  if (random.length !== 16) throw new RangeError('random must be 16 bytes');
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length, 0);
  const body = Buffer.concat([random, len, msg, Buffer.from(receiveId, 'utf8')]);
  const pad = BLOCK - (body.length % BLOCK);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([body, Buffer.alloc(pad, pad)])), cipher.final()]).toString(
    'base64',
  );
}

export interface CallbackEnvelopeOptions {
  token: string;
  encodingAesKey: string;
  /** corpid for self-built apps and the contact-sync assistant; suite id for third-party. */
  receiveId: string;
  /** The plaintext event or message XML. */
  innerXml: string;
  /** Unix seconds as a string; defaults to now. */
  timestamp?: string;
  nonce?: string;
  /** Defaults to receiveId. Not covered by the signature (docs/wecom.md §1.2). */
  toUserName?: string;
  /** Only on app-related callbacks (docs/wecom.md §1.4). */
  agentId?: string;
}

export interface CallbackEnvelope {
  /** The POST body, exactly as WeCom sends it. */
  body: string;
  query: { msg_signature: string; timestamp: string; nonce: string };
}

/** Builds the encrypted, signed POST WeCom sends to a callback URL (docs/wecom.md §1.4). */
export function buildCallbackEnvelope(opts: CallbackEnvelopeOptions): CallbackEnvelope {
  const timestamp = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? randomNonce();
  const encrypted = encryptCallback(opts.encodingAesKey, opts.innerXml, opts.receiveId);
  const msgSignature = signCallback(opts.token, timestamp, nonce, encrypted);
  const toUser = opts.toUserName ?? opts.receiveId;
  const agent = opts.agentId === undefined ? '' : `<AgentID><![CDATA[${cdata(opts.agentId)}]]></AgentID>`;
  const body = `<xml><ToUserName><![CDATA[${cdata(toUser)}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt>${agent}</xml>`;
  return { body, query: { msg_signature: msgSignature, timestamp, nonce } };
}

/** A fresh EncodingAESKey: 43 characters of [A-Za-z0-9] that decode to 32 bytes. */
export function generateEncodingAesKey(): string {
  for (;;) {
    const candidate = randomBytes(33)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 43);
    if (candidate.length === 43 && Buffer.from(`${candidate}=`, 'base64').length === 32) return candidate;
  }
}

/** A WeCom-style numeric nonce. */
export function randomNonce(): string {
  return String(randomBytes(4).readUInt32BE(0));
}

/** Splits `]]>` so arbitrary text survives inside CDATA. */
export function cdata(text: string): string {
  return text.replaceAll(']]>', ']]]]><![CDATA[>');
}
