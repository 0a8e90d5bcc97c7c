import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

/**
 * Encryption at rest for personal data, corp secrets and sealed Redis values (docs/architecture.md §7,
 * docs/security.md "Data at rest and in transit"): AES-256-GCM under the active key id; every
 * ciphertext names its key id so keys rotate without downtime (old ids keep decrypting until a
 * rotation has re-encrypted everything).
 *
 * Formats:
 * - `v2.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts): the caller's context (for example
 *   `corps/secret/<corpId>`, see `sealContext`) is the additional authenticated data, so a value
 *   copied to another document, field or job fails to decrypt instead of being read as that one.
 * - `v1.…` (no context): written before contexts existed and by callers that have none yet;
 *   still read, and `npm run rotate-keys` rewrites v1 values of contexted fields as v2.
 * Tags are always 16 bytes: the decipher is created with `authTagLength: 16`, so a truncated
 * tag (which GCM would otherwise accept down to 4 bytes) is refused.
 */
export class DataCipher {
  private readonly keyObjects = new Map<string, KeyObject>();
  /** Random IVs drawn 256 at a time: one randomBytes call per 256 seals instead of per seal. */
  private ivPool = Buffer.alloc(0);
  private ivAt = 0;

  constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    readonly activeKeyId: string,
  ) {
    if (!keys.has(activeKeyId)) throw new Error(`active data key id "${activeKeyId}" is not configured`);
    // Imported once: a sealed callback costs one AES-GCM pass, not a key import each time.
    for (const [id, key] of keys) this.keyObjects.set(id, createSecretKey(key));
  }

  /** Seals `plaintext`; with `context`, bound to it (v2), else the legacy v1 format. */
  encrypt(plaintext: string, context?: string): string {
    const key = this.keyObjects.get(this.activeKeyId) as KeyObject;
    const iv = this.nextIv();
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [context === undefined ? 'v1' : 'v2', this.activeKeyId, b64(iv), b64(cipher.getAuthTag()), b64(body)].join(
      '.',
    );
  }

  /**
   * Opens a sealed value. A v2 value opens only with the context it was sealed with; a v1 value
   * (legacy, no context) opens whatever context the caller names, until rotate-keys rewrites it.
   */
  decrypt(sealed: string, context?: string): string {
    const [version, keyId, iv, tag, body] = sealed.split('.');
    if (
      (version !== 'v1' && version !== 'v2') ||
      !keyId ||
      iv === undefined ||
      tag === undefined ||
      body === undefined
    ) {
      throw new DataCipherError('not a sealed value');
    }
    if (version === 'v2' && context === undefined)
      throw new DataCipherError('a v2 sealed value needs the context it was sealed with');
    const key = this.keyObjects.get(keyId);
    if (!key)
      throw new DataCipherError(`data key "${keyId}" is not configured (DATA_KEYS); it is needed to decrypt old data`);
    const tagBytes = Buffer.from(tag, 'base64url');
    if (tagBytes.length !== TAG_BYTES)
      throw new DataCipherError(`value sealed with key "${keyId}" has a ${tagBytes.length}-byte tag; 16 are required`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tagBytes);
      if (version === 'v2') decipher.setAAD(Buffer.from(context as string, 'utf8'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new DataCipherError(
        `value sealed with key "${keyId}" failed authentication${version === 'v2' ? ' (wrong key, altered, or moved from another document or field)' : ''}`,
      );
    }
  }

  private nextIv(): Buffer {
    if (this.ivAt + IV_BYTES > this.ivPool.length) {
      // A fresh buffer each time: IVs already handed out are never overwritten.
      this.ivPool = randomBytes(IV_BYTES * 256);
      this.ivAt = 0;
    }
    const iv = this.ivPool.subarray(this.ivAt, this.ivAt + IV_BYTES);
    this.ivAt += IV_BYTES;
    return iv;
  }

  /** The key id a sealed value was written with (for rotation sweeps). */
  keyIdOf(sealed: string): string | undefined {
    return sealed.startsWith('v1.') || sealed.startsWith('v2.') ? sealed.split('.')[1] : undefined;
  }

  /** True when a sweep should rewrite the value: an older key, or (when it has one) no context yet. */
  needsRotation(sealed: string, hasContext = false): boolean {
    return this.keyIdOf(sealed) !== this.activeKeyId || (hasContext && sealed.startsWith('v1.'));
  }

  encryptOptional(plaintext: string | undefined | null, context?: string): string | undefined {
    return plaintext === undefined || plaintext === null || plaintext === ''
      ? undefined
      : this.encrypt(plaintext, context);
  }

  decryptOptional(sealed: string | undefined | null, context?: string): string | undefined {
    return sealed ? this.decrypt(sealed, context) : undefined;
  }
}

const TAG_BYTES = 16;
const IV_BYTES = 12;

/**
 * The additional data binding a sealed value to where it belongs: `<collection>/<field>/<id>`
 * (a MongoDB collection and document id, or a Redis key family and key).
 */
export function sealContext(collection: string, field: string, id: string): string {
  return `${collection}/${field}/${id}`;
}

export class DataCipherError extends Error {
  override name = 'DataCipherError';
}

/** What a keyed look-up hash is of; part of the HMAC input so equal values of different kinds never collide. */
export type LookupKind = 'name' | 'remark' | 'mobile' | 'unionid' | 'token' | 'holdout';

/**
 * Keyed hashes (HMAC-SHA256 with LOOKUP_HMAC_KEY) of normalised values, for exact-match search
 * over encrypted fields without storing plaintext.
 */
export class LookupHasher {
  constructor(private readonly key: Buffer) {}

  hash(kind: LookupKind, value: string): string {
    return createHmac('sha256', this.key)
      .update(`${kind}\u0000${normalizeFor(kind, value)}`)
      .digest('base64url');
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
  return kind === 'mobile'
    ? normalizeMobile(value)
    : kind === 'name' || kind === 'remark'
      ? normalizeText(value)
      : value;
}

function b64(buffer: Buffer): string {
  return buffer.toString('base64url');
}
