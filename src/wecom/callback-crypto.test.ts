import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decrypt as libDecrypt, encrypt as libEncrypt, getSignature } from '@wecom/crypto';
import { XMLParser } from 'fast-xml-parser';
import { createCipheriv } from 'node:crypto';
import {
  buildCallbackEnvelope,
  CallbackCryptoError,
  decryptCallback,
  encryptCallback,
  generateEncodingAesKey,
  parseEncodingAesKey,
  signCallback,
  verifySignature,
} from './callback-crypto.js';

const KEY = generateEncodingAesKey();
const CORP = 'ww0123456789abcdef';

function rawEncrypt(key: string, plain: Buffer): string {
  const { key: k, iv } = parseEncodingAesKey(key);
  const cipher = createCipheriv('aes-256-cbc', k, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof CallbackCryptoError ? err.reason : `other:${String(err)}`;
  }
  return undefined;
}

describe('generateEncodingAesKey', () => {
  it('makes 43-character keys that @wecom/crypto accepts', () => {
    for (let i = 0; i < 50; i += 1) {
      const key = generateEncodingAesKey();
      expect(key).toMatch(/^[A-Za-z0-9]{43}$/);
      expect(() => libEncrypt(key, 'x', CORP)).not.toThrow();
    }
  });
});

describe('signatures', () => {
  it('matches @wecom/crypto getSignature', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (t, ts, n, e) => {
        expect(signCallback(t, ts, n, e)).toBe(getSignature(t, ts, n, e));
      }),
    );
  });
  it('verifies good signatures and rejects bad ones without throwing', () => {
    const sig = signCallback('tok', '1700000000', '123', 'enc');
    expect(verifySignature('tok', '1700000000', '123', 'enc', sig)).toBe(true);
    expect(verifySignature('tok', '1700000000', '123', 'enc', sig.toUpperCase())).toBe(true);
    expect(verifySignature('tok', '1700000001', '123', 'enc', sig)).toBe(false);
    expect(verifySignature('tok', '1700000000', '123', 'enc', '')).toBe(false);
    expect(verifySignature('tok', '1700000000', '123', 'enc', `${sig}00`)).toBe(false);
    expect(verifySignature('tok', '1700000000', '123', 'enc', 'é'.repeat(40))).toBe(false);
  });
});

describe('encrypt/decrypt', () => {
  it('round-trips with @wecom/crypto in both directions', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 600 }), fc.string({ maxLength: 40 }), (message, id) => {
        const ours = encryptCallback(KEY, message, id);
        const theirs = libDecrypt(KEY, ours);
        expect(theirs.message).toBe(message);
        expect(theirs.id).toBe(id);
        const back = decryptCallback(KEY, libEncrypt(KEY, message, id));
        expect(back).toEqual({ message, receiveId: id });
      }),
      { numRuns: 200 },
    );
  });
  it('produces the same bytes as @wecom/crypto for the same random', () => {
    const random = Buffer.alloc(16, 7);
    expect(encryptCallback(KEY, '<xml>你好</xml>', CORP, random)).toBe(libEncrypt(KEY, '<xml>你好</xml>', CORP, random));
  });
  it('rejects bad keys', () => {
    expect(reasonOf(() => decryptCallback('short', 'AAAA'))).toBe('bad_key');
    expect(reasonOf(() => decryptCallback(`${KEY.slice(0, 42)}+`, 'AAAA'))).toBe('bad_key');
    expect(reasonOf(() => encryptCallback('', 'x', CORP))).toBe('bad_key');
  });
  it('rejects hostile ciphertexts with a typed reason, never a crash', () => {
    expect(reasonOf(() => decryptCallback(KEY, ''))).toBe('bad_base64');
    expect(reasonOf(() => decryptCallback(KEY, 'not base64!!'))).toBe('bad_base64');
    expect(reasonOf(() => decryptCallback(KEY, 'AAA'))).toBe('bad_base64');
    expect(reasonOf(() => decryptCallback(KEY, Buffer.alloc(16).toString('base64')))).toBe('bad_length');
    expect(reasonOf(() => decryptCallback(KEY, Buffer.alloc(33).toString('base64')))).toBe('bad_length');
    // pad byte 0, pad byte 33, inconsistent pad bytes
    const zeroPad = Buffer.alloc(32, 0);
    expect(reasonOf(() => decryptCallback(KEY, rawEncrypt(KEY, zeroPad)))).toBe('bad_padding');
    expect(reasonOf(() => decryptCallback(KEY, rawEncrypt(KEY, Buffer.alloc(64, 33))))).toBe('bad_padding');
    const mixed = Buffer.alloc(32, 4);
    mixed[29] = 5;
    expect(reasonOf(() => decryptCallback(KEY, rawEncrypt(KEY, mixed)))).toBe('bad_padding');
    // too short for the header
    expect(reasonOf(() => decryptCallback(KEY, rawEncrypt(KEY, Buffer.alloc(32, 32))))).toBe('bad_message_length');
    const short = Buffer.concat([Buffer.alloc(10, 1), Buffer.alloc(22, 22)]);
    expect(reasonOf(() => decryptCallback(KEY, rawEncrypt(KEY, short)))).toBe('bad_message_length');
    // length field larger than the buffer
    const lying = Buffer.concat([Buffer.alloc(16, 1), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.alloc(12, 12)]);
    expect(reasonOf(() => decryptCallback(KEY, rawEncrypt(KEY, lying)))).toBe('bad_message_length');
    // wrong key: padding almost certainly wrong
    const other = generateEncodingAesKey();
    expect(reasonOf(() => decryptCallback(other, encryptCallback(KEY, 'hello', CORP)))).toMatch(/^bad_/);
  });
  it('never throws anything but CallbackCryptoError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.base64String(), fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b).toString('base64'))), (input) => {
        const reason = reasonOf(() => decryptCallback(KEY, input));
        expect(reason === undefined || !reason.startsWith('other:')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('buildCallbackEnvelope', () => {
  it('builds a body that verifies and decrypts with @wecom/crypto', () => {
    const inner = '<xml><ToUserName><![CDATA[ww]]></ToUserName><Content><![CDATA[a]]>b]]></Content></xml>';
    const env = buildCallbackEnvelope({ token: 'tok123', encodingAesKey: KEY, receiveId: CORP, innerXml: inner, agentId: '1000002' });
    const parsed = new XMLParser({ processEntities: false }).parse(env.body) as { xml: { Encrypt: string; ToUserName: string; AgentID: number } };
    expect(parsed.xml.ToUserName).toBe(CORP);
    expect(parsed.xml.AgentID).toBe(1000002);
    const { msg_signature, timestamp, nonce } = env.query;
    expect(getSignature('tok123', timestamp, nonce, parsed.xml.Encrypt)).toBe(msg_signature);
    expect(libDecrypt(KEY, parsed.xml.Encrypt)).toMatchObject({ message: inner, id: CORP });
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
  });
});
