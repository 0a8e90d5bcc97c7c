import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Encryption at rest for personal data and corp secrets (design §7): AES-256-GCM under the
 * active key id; every ciphertext names its key id so keys rotate without downtime (old ids
 * keep decrypting until a rotation has re-encrypted everything).
 *
 * Format: `v1.<keyId>.<iv b64url>.<tag b64url>.<ciphertext b64url>`.
 */
export class DataCipher {
  constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    readonly activeKeyId: string,
  ) {
    if (!keys.has(activeKeyId)) throw new Error(`active data key id "${activeKeyId}" is not configured`);
  }

  encrypt(plaintext: string): string {
    const key = this.keys.get(this.activeKeyId) as Buffer;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.activeKeyId, b64(iv), b64(cipher.getAuthTag()), b64(body)].join('.');
  }

  decrypt(sealed: string): string {
    const [version, keyId, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !keyId || iv === undefined || tag === undefined || body === undefined) {
      throw new DataCipherError('not a sealed value');
    }
    const key = this.keys.get(keyId);
    if (!key) throw new DataCipherError(`data key "${keyId}" is not configured (DATA_KEYS); it is needed to decrypt old data`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new DataCipherError(`value sealed with key "${keyId}" failed authentication`);
    }
  }

  /** The key id a sealed value was written with (for rotation sweeps). */
  keyIdOf(sealed: string): string | undefined {
    return sealed.startsWith('v1.') ? sealed.split('.')[1] : undefined;
  }

  needsRotation(sealed: string): boolean {
    return this.keyIdOf(sealed) !== this.activeKeyId;
  }

  encryptOptional(plaintext: string | undefined | null): string | undefined {
    return plaintext === undefined || plaintext === null || plaintext === '' ? undefined : this.encrypt(plaintext);
  }

  decryptOptional(sealed: string | undefined | null): string | undefined {
    return sealed ? this.decrypt(sealed) : undefined;
  }
}

export class DataCipherError extends Error {
  override name = 'DataCipherError';
}

/** What a keyed look-up hash is of; part of the HMAC input so equal values of different kinds never collide. */
export type LookupKind = 'name' | 'remark' | 'mobile' | 'unionid' | 'token';

/**
 * Keyed hashes (HMAC-SHA256 with LOOKUP_HMAC_KEY) of normalised values, for exact-match search
 * over encrypted fields without storing plaintext.
 */
export class LookupHasher {
  constructor(private readonly key: Buffer) {}

  hash(kind: LookupKind, value: string): string {
    return createHmac('sha256', this.key).update(`${kind}\u0000${normalizeFor(kind, value)}`).digest('base64url');
  }
}

/** Case, width and space differences do not make a different person. */
export function normalizeText(value: string): string {
  return value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Mainland mobiles: digits only, without +86/0086 prefix. Other numbers keep their digits. */
export function normalizeMobile(value: string): string {
  const digits = value.normalize('NFKC').replace(/\D/g, '');
  const mainland = digits.replace(/^(?:0086|86)(?=1\d{10}$)/, '');
  return mainland;
}

function normalizeFor(kind: LookupKind, value: string): string {
  return kind === 'mobile' ? normalizeMobile(value) : kind === 'name' || kind === 'remark' ? normalizeText(value) : value;
}

function b64(buffer: Buffer): string {
  return buffer.toString('base64url');
}
