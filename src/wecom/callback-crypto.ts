import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * WeCom callback crypto (reference §1.2–§1.5, doc 90968): signature, AES-256-CBC with a 32-byte
 * PKCS#7 block, and the `<xml><ToUserName/><Encrypt/><AgentID/></xml>` envelope. Shared by the
 * bot's receiver and the sandbox's callback driver, so tests sign with the production code.
 *
 * Byte-compatible with `@wecom/crypto` (round trips are tested both ways); we reimplement decrypt
 * because the library crashes or returns garbage on hostile input instead of rejecting it.
 */

export type CallbackCryptoErrorReason =
  | 'bad_key'
  | 'bad_base64'
  | 'bad_length'
  | 'bad_padding'
  | 'bad_message_length'
  | 'bad_utf8';

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
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const AES_KEY_RE = /^[A-Za-z0-9]{43}$/;

/** `msg_signature`: SHA-1 hex of the four values sorted as strings and concatenated (§1.2). */
export function signCallback(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join('')).digest('hex');
}

/**
 * Checks `msg_signature` in constant time. Any length or type mismatch is simply `false`
 * (timingSafeEqual would throw on unequal lengths).
 */
export function verifySignature(token: string, timestamp: string, nonce: string, encrypt: string, signature: string): boolean {
  if (typeof signature !== 'string' || signature.length !== 40) return false;
  const expected = Buffer.from(signCallback(token, timestamp, nonce, encrypt), 'utf8');
  const given = Buffer.from(signature.toLowerCase(), 'utf8');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(expected, given);
}

/** `AESKey = base64(EncodingAESKey + "=")`, 32 bytes; the IV is its first 16 bytes (§1.2). */
export function parseEncodingAesKey(encodingAesKey: string): { key: Buffer; iv: Buffer } {
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
 * caller must (§1.2, "do it yourself").
 */
export function decryptCallback(encodingAesKey: string, encrypt: string): { message: string; receiveId: string } {
  const { key, iv } = parseEncodingAesKey(encodingAesKey);
  if (typeof encrypt !== 'string' || encrypt.length === 0 || encrypt.length % 4 !== 0 || !BASE64_RE.test(encrypt)) {
    throw new CallbackCryptoError('bad_base64', 'ciphertext is not canonical base64');
  }
  const cipherBytes = Buffer.from(encrypt, 'base64');
  if (cipherBytes.length === 0 || cipherBytes.length % BLOCK !== 0) {
    throw new CallbackCryptoError('bad_length', `ciphertext length ${cipherBytes.length} is not a positive multiple of ${BLOCK}`);
  }
  const decipher = createDecipheriv('aes-256-cbc', key, iv);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(cipherBytes), decipher.final()]);
  const pad = plain[plain.length - 1] ?? 0;
  if (pad < 1 || pad > BLOCK || pad > plain.length) throw new CallbackCryptoError('bad_padding', 'invalid PKCS#7 padding');
  for (let i = plain.length - pad; i < plain.length; i += 1) {
    if (plain[i] !== pad) throw new CallbackCryptoError('bad_padding', 'invalid PKCS#7 padding');
  }
  const content = plain.subarray(0, plain.length - pad);
  if (content.length < 20) throw new CallbackCryptoError('bad_message_length', 'plaintext shorter than random + length header');
  const msgLen = content.readUInt32BE(16);
  if (msgLen > content.length - 20) throw new CallbackCryptoError('bad_message_length', 'length field exceeds the plaintext');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    return {
      message: decoder.decode(content.subarray(20, 20 + msgLen)),
      receiveId: decoder.decode(content.subarray(20 + msgLen)),
    };
  } catch {
    throw new CallbackCryptoError('bad_utf8', 'plaintext is not valid UTF-8');
  }
}

/** Encrypts `random(16) | len(4, BE) | message | receiveId` with 32-byte PKCS#7 padding (§1.2). */
export function encryptCallback(encodingAesKey: string, message: string, receiveId: string, random: Buffer = randomBytes(16)): string {
  const { key, iv } = parseEncodingAesKey(encodingAesKey);
  if (random.length !== 16) throw new RangeError('random must be 16 bytes');
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length, 0);
  const body = Buffer.concat([random, len, msg, Buffer.from(receiveId, 'utf8')]);
  const pad = BLOCK - (body.length % BLOCK);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([body, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
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
  /** Defaults to receiveId. Not covered by the signature (§1.2). */
  toUserName?: string;
  /** Only on app-related callbacks (§1.4). */
  agentId?: string;
}

export interface CallbackEnvelope {
  /** The POST body, exactly as WeCom sends it. */
  body: string;
  query: { msg_signature: string; timestamp: string; nonce: string };
}

/** Builds the encrypted, signed POST WeCom sends to a callback URL (§1.4). */
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
    const candidate = randomBytes(33).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 43);
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
