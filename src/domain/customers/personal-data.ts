import type { AppConfig } from '../../../config/index.js';
import { DataCipher, LookupHasher, type LookupKind } from '../../infra/data-crypto.js';

/**
 * Seals personal data for storage (docs/architecture.md §7): the ciphertext to keep and, for searchable
 * kinds, the keyed hash to index. The one object domain code uses for both.
 */
export class PersonalData {
  constructor(
    readonly cipher: DataCipher,
    readonly hasher: LookupHasher,
  ) {}

  static fromConfig(config: AppConfig): PersonalData {
    return new PersonalData(new DataCipher(config.dataKeys.keys, config.dataKeys.activeId), new LookupHasher(config.lookupHmacKey));
  }

  /** Sealed value and look-up hash; both undefined for an empty value. */
  sealSearchable(kind: LookupKind, value: string | undefined | null): { enc?: string; hash?: string } {
    if (value === undefined || value === null || value.trim() === '') return {};
    return { enc: this.cipher.encrypt(value), hash: this.hasher.hash(kind, value) };
  }

  seal(value: string | undefined | null): string | undefined {
    return this.cipher.encryptOptional(value);
  }

  open(sealed: string | undefined | null): string | undefined {
    return this.cipher.decryptOptional(sealed);
  }

  hash(kind: LookupKind, value: string): string {
    return this.hasher.hash(kind, value);
  }
}
