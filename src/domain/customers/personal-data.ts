import type { AppConfig } from '../../../config/index.js';
import { DataCipher, LookupHasher, sealContext, type LookupKind } from '../../infra/data-crypto.js';

/** The sealed fields of `customers` (docs/security.md "Data at rest and in transit"). */
export type CustomerSealedField = 'nameEnc' | 'unionidEnc' | 'birthdayEnc' | 'dmsNotesEnc';
/** The sealed fields of `relationships`; every element of `remarkMobilesEnc` shares the field's context. */
export type RelationshipSealedField = 'remarkEnc' | 'descriptionEnc' | 'remarkMobilesEnc' | 'noteEnc';

/**
 * Where a personal-data value belongs: the additional authenticated data of its v2 seal. Built only
 * by `customerCtx` / `relationshipCtx`, so a caller cannot pass a free-form string by mistake.
 */
export type PdContext = string & { readonly __pdContext: unique symbol };

/**
 * The document's natural key, not its `_id`: the write paths upsert by it (the `_id` does not exist
 * yet when the value is sealed) and every reader has it at hand. Each part is URI-component
 * encoded so an id containing `:` cannot shift the boundary between parts.
 */
function naturalKey(...parts: string[]): string {
  return parts.map((p) => encodeURIComponent(p)).join(':');
}

/** `customers/<field>/<corpId>:<externalUserId>` (docs/security.md "Data at rest and in transit"). */
export function customerCtx(doc: { corpId: string; externalUserId: string }, field: CustomerSealedField): PdContext {
  return sealContext('customers', field, naturalKey(doc.corpId, doc.externalUserId)) as PdContext;
}

/** `relationships/<field>/<corpId>:<externalUserId>:<userid>` (docs/security.md "Data at rest and in transit"). */
export function relationshipCtx(
  doc: { corpId: string; externalUserId: string; userid: string },
  field: RelationshipSealedField,
): PdContext {
  return sealContext('relationships', field, naturalKey(doc.corpId, doc.externalUserId, doc.userid)) as PdContext;
}

/** The sealed fields of `leads` (docs/acquisition.md). */
export type LeadSealedField = 'nameEnc' | 'mobileEnc';

/** `leads/<field>/<corpId>:<leadId>` (docs/security.md "Data at rest and in transit"). */
export function leadCtx(doc: { corpId: string; leadId: string }, field: LeadSealedField): PdContext {
  return sealContext('leads', field, naturalKey(doc.corpId, doc.leadId)) as PdContext;
}

/**
 * The context of a sealed field of a stored document (key rotation, export), or undefined for a
 * collection whose values are not bound (none today besides corps, which key-rotation handles).
 */
export function storedFieldCtx(collection: string, doc: Record<string, unknown>, field: string): PdContext | undefined {
  const corpId = doc.corpId;
  if (collection === 'leads' && typeof corpId === 'string' && doc._id)
    return leadCtx({ corpId, leadId: String(doc._id) }, field as LeadSealedField);
  const externalUserId = doc.externalUserId;
  if (typeof corpId !== 'string' || typeof externalUserId !== 'string') return undefined;
  if (collection === 'customers') return customerCtx({ corpId, externalUserId }, field as CustomerSealedField);
  if (collection === 'relationships' && typeof doc.userid === 'string')
    return relationshipCtx({ corpId, externalUserId, userid: doc.userid }, field as RelationshipSealedField);
  return undefined;
}

/**
 * Seals personal data for storage (docs/architecture.md §7, docs/security.md "Data at rest and in
 * transit"): the ciphertext to keep and, for searchable kinds, the keyed hash to index. Every value
 * is sealed as v2, bound to its document and field (`customerCtx`, `relationshipCtx`), so a sealed
 * value copied to another customer or field fails to open. v1 values (written before contexts)
 * still open until `npm run rotate-keys` rewrites them.
 */
export class PersonalData {
  constructor(
    readonly cipher: DataCipher,
    readonly hasher: LookupHasher,
  ) {}

  static fromConfig(config: AppConfig): PersonalData {
    return new PersonalData(
      new DataCipher(config.dataKeys.keys, config.dataKeys.activeId),
      new LookupHasher(config.lookupHmacKey),
    );
  }

  /** Sealed value (bound to `ctx`) and look-up hash; both undefined for an empty value. */
  sealSearchableFor(
    ctx: PdContext,
    kind: LookupKind,
    value: string | undefined | null,
  ): { enc?: string; hash?: string } {
    if (value === undefined || value === null || value.trim() === '') return {};
    return { enc: this.cipher.encrypt(value, ctx), hash: this.hasher.hash(kind, value) };
  }

  /** Seals a value bound to `ctx` (v2); undefined for an empty value. */
  sealFor(ctx: PdContext, value: string | undefined | null): string | undefined {
    return this.cipher.encryptOptional(value, ctx);
  }

  /** Opens a value stored at `ctx`: v2 only with that context, v1 (legacy) as before. Throws DataCipherError otherwise. */
  openFor(ctx: PdContext, sealed: string | undefined | null): string | undefined {
    return this.cipher.decryptOptional(sealed, ctx);
  }

  hash(kind: LookupKind, value: string): string {
    return this.hasher.hash(kind, value);
  }
}
