import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataCipher, DataCipherError, LookupHasher, normalizeMobile, sealContext } from './data-crypto.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

describe('DataCipher', () => {
  it('round-trips and never stores the plaintext', () => {
    const cipher = new DataCipher(new Map([['k1', k1]]), 'k1');
    const sealed = cipher.encrypt('王测试 13800000000');
    expect(sealed).not.toContain('13800000000');
    expect(sealed.startsWith('v1.k1.')).toBe(true);
    expect(cipher.decrypt(sealed)).toBe('王测试 13800000000');
    expect(cipher.encrypt('x')).not.toBe(cipher.encrypt('x')); // random IV
  });

  it('keeps decrypting old key ids after rotation and flags them for re-encryption', () => {
    const old = new DataCipher(new Map([['k1', k1]]), 'k1');
    const sealed = old.encrypt('remark');
    const rotated = new DataCipher(
      new Map([
        ['k1', k1],
        ['k2', k2],
      ]),
      'k2',
    );
    expect(rotated.decrypt(sealed)).toBe('remark');
    expect(rotated.needsRotation(sealed)).toBe(true);
    expect(rotated.needsRotation(rotated.encrypt('remark'))).toBe(false);
  });

  it('refuses tampered values and unknown keys with a clear error', () => {
    const cipher = new DataCipher(new Map([['k1', k1]]), 'k1');
    const sealed = cipher.encrypt('hello');
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => cipher.decrypt(tampered)).toThrow(DataCipherError);
    const other = new DataCipher(new Map([['k9', k2]]), 'k9');
    expect(() => other.decrypt(sealed)).toThrow(/data key "k1" is not configured/);
    expect(() => cipher.decrypt('plain text')).toThrow(/not a sealed value/);
  });
});

describe('DataCipher contexts and tags', () => {
  const cipher = new DataCipher(new Map([['k1', k1]]), 'k1');
  const here = sealContext('corps', 'secret', 'wwdealerA0001');

  it('binds a value to its collection, field and document id', () => {
    const sealed = cipher.encrypt('s3cret', here);
    expect(sealed.startsWith('v2.k1.')).toBe(true);
    expect(cipher.decrypt(sealed, here)).toBe('s3cret');
    // Moved to another document, another field, or read without its context: refused.
    expect(() => cipher.decrypt(sealed, sealContext('corps', 'secret', 'wwdealerB0002'))).toThrow(
      /moved from another document or field/,
    );
    expect(() => cipher.decrypt(sealed, sealContext('corps', 'callbackToken', 'wwdealerA0001'))).toThrow(
      DataCipherError,
    );
    expect(() => cipher.decrypt(sealed)).toThrow(/needs the context/);
  });

  it('refuses truncated tags, which GCM would accept down to 4 bytes without authTagLength', () => {
    for (const sealed of [cipher.encrypt('hello', here), cipher.encrypt('hello')]) {
      const parts = sealed.split('.');
      const tag = Buffer.from(parts[3] ?? '', 'base64url');
      for (const bytes of [4, 8, 12]) {
        parts[3] = tag.subarray(0, bytes).toString('base64url');
        expect(() => cipher.decrypt(parts.join('.'), here)).toThrow(/16 are required/);
      }
    }
  });

  it('draws a fresh random IV for every seal, across refills of its IV pool', () => {
    const ivs = new Set(Array.from({ length: 600 }, () => cipher.encrypt('x', here).split('.')[2]));
    expect(ivs.size).toBe(600);
  });

  it('still reads v1 values in any context during migration, and flags them for rotate-keys', () => {
    const legacy = cipher.encrypt('old');
    expect(cipher.decrypt(legacy, here)).toBe('old');
    expect(cipher.needsRotation(legacy)).toBe(false);
    expect(cipher.needsRotation(legacy, true)).toBe(true);
    expect(cipher.needsRotation(cipher.encrypt('new', here), true)).toBe(false);
  });
});

describe('LookupHasher', () => {
  it('matches normalised equal values and separates kinds', () => {
    const hasher = new LookupHasher(randomBytes(32));
    expect(hasher.hash('mobile', '+86 138-0000-0001')).toBe(hasher.hash('mobile', '13800000001'));
    expect(hasher.hash('name', ' 李 测试 ')).toBe(hasher.hash('name', '李 测试'));
    expect(hasher.hash('name', '13800000001')).not.toBe(hasher.hash('mobile', '13800000001'));
    expect(normalizeMobile('0086 13800000001')).toBe('13800000001');
  });
});
