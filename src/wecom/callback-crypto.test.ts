import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decrypt as libDecrypt, encrypt as libEncrypt, getSignature } from '@wecom/crypto';
import { XMLParser } from 'fast-xml-parser';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import {
  buildCallbackEnvelope,
  CallbackCryptoError,
  decodeCanonicalBase64,
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
    expect(encryptCallback(KEY, '<xml>你好</xml>', CORP, random)).toBe(
      libEncrypt(KEY, '<xml>你好</xml>', CORP, random),
    );
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
      fc.property(
        fc.oneof(
          fc.string(),
          fc.base64String(),
          fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b).toString('base64')),
        ),
        (input) => {
          const reason = reasonOf(() => decryptCallback(KEY, input));
          expect(reason === undefined || !reason.startsWith('other:')).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** The layout of docs/wecom.md §1.2 opened with a fresh decipher per message: what decryptCallback must equal whatever came before. */
function referenceDecrypt(key: string, encrypt: string): { message: string; receiveId: string } | string {
  const aes = Buffer.from(`${key}=`, 'base64');
  const d = createDecipheriv('aes-256-cbc', aes, aes.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(Buffer.from(encrypt, 'base64')), d.final()]);
  const pad = plain[plain.length - 1] as number;
  if (pad < 1 || pad > 32) return 'bad_padding';
  if (plain.length - pad < 20) return 'bad_message_length';
  if (plain.subarray(plain.length - pad).some((b) => b !== pad)) return 'bad_padding';
  const len = plain.readUInt32BE(16);
  if (len > plain.length - pad - 20) return 'bad_message_length';
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  try {
    return {
      message: utf8.decode(plain.subarray(20, 20 + len)),
      receiveId: utf8.decode(plain.subarray(20 + len, plain.length - pad)),
    };
  } catch {
    return 'bad_utf8';
  }
}

describe('decryptCallback over many messages', () => {
  it('opens every input of a long, interleaved sequence as a fresh decipher would (the kept decipher chains)', () => {
    const keys = [KEY, generateEncodingAesKey()];
    const input = fc.oneof(
      fc
        .string({ maxLength: 300 })
        .map((message) => ({ message, foreign: false, random: undefined as Uint8Array | undefined })),
      fc.string({ maxLength: 300 }).map((message) => ({ message, foreign: true, random: undefined })),
      fc
        .uint8Array({ minLength: 1, maxLength: 6 })
        .chain((n) =>
          fc.uint8Array({ minLength: 32 * (((n[0] as number) % 6) + 1), maxLength: 32 * (((n[0] as number) % 6) + 1) }),
        )
        .map((random) => ({ message: '', foreign: false, random })),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1), input), { minLength: 1, maxLength: 40 }), (steps) => {
        for (const [k, { message, foreign, random }] of steps) {
          const key = keys[k] as string;
          // Valid messages, another key's ciphertext (nearly always bad padding) and random blocks.
          const encrypted = random
            ? Buffer.from(random).toString('base64')
            : encryptCallback(foreign ? (keys[1 - k] as string) : key, message, CORP);
          const expected = referenceDecrypt(key, encrypted);
          expect(
            typeof expected === 'string'
              ? reasonOf(() => decryptCallback(key, encrypted))
              : decryptCallback(key, encrypted),
          ).toEqual(expected);
          if (!foreign && !random) expect(expected).toEqual({ message, receiveId: CORP });
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeCanonicalBase64', () => {
  const canonical = (text: string) => text.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(text);
  const alphabet = [...'ABCXYZabcxyz0189+/=-_ *é\n'];

  it('accepts exactly what the canonical-base64 pattern accepts, and decodes it as Node does', () => {
    const mixed = fc.oneof(
      fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 24 }),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')),
      fc
        .tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(60), fc.constantFrom(...alphabet))
        .map(([b, at, c]) => {
          const text = Buffer.from(b).toString('base64');
          const i = at % text.length;
          return `${text.slice(0, i)}${c}${text.slice(i + 1)}`;
        }),
    );
    fc.assert(
      fc.property(mixed, (text) => {
        const decoded = decodeCanonicalBase64(text);
        expect(decoded !== undefined).toBe(canonical(text));
        if (decoded) expect(decoded).toEqual(Buffer.from(text, 'base64'));
      }),
      { numRuns: 3000 },
    );
    for (const text of [
      'QUJD',
      'QUI=',
      'QQ==',
      'QU==',
      'Q===',
      '====',
      'QU=A',
      'Q=JD',
      'QU-_',
      'QUJ\nD',
      'QUJDé===',
      '',
    ]) {
      expect(decodeCanonicalBase64(text) !== undefined, JSON.stringify(text)).toBe(canonical(text));
    }
  });
});

describe('buildCallbackEnvelope', () => {
  it('builds a body that verifies and decrypts with @wecom/crypto', () => {
    const inner = '<xml><ToUserName><![CDATA[ww]]></ToUserName><Content><![CDATA[a]]>b]]></Content></xml>';
    const env = buildCallbackEnvelope({
      token: 'tok123',
      encodingAesKey: KEY,
      receiveId: CORP,
      innerXml: inner,
      agentId: '1000002',
    });
    const parsed = new XMLParser({ processEntities: false }).parse(env.body) as {
      xml: { Encrypt: string; ToUserName: string; AgentID: number };
    };
    expect(parsed.xml.ToUserName).toBe(CORP);
    expect(parsed.xml.AgentID).toBe(1000002);
    const { msg_signature, timestamp, nonce } = env.query;
    expect(getSignature('tok123', timestamp, nonce, parsed.xml.Encrypt)).toBe(msg_signature);
    expect(libDecrypt(KEY, parsed.xml.Encrypt)).toMatchObject({ message: inner, id: CORP });
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
  });
});
