import type { Redis } from 'ioredis';
import mongoose, { Types } from 'mongoose';
import { sealContext, type DataCipher } from '../../infra/data-crypto.js';
import {
  customerCtx,
  leadCtx,
  relationshipCtx,
  type CustomerSealedField,
  type LeadSealedField,
  type RelationshipSealedField,
} from '../customers/personal-data.js';

/** Where sealed values live (docs/architecture.md §7): collection, single-value fields, array fields. */
export interface SealedFields {
  collection: string;
  fields: readonly string[];
  arrays?: readonly string[];
  /**
   * The context a field's values are sealed with (DataCipher v2), from the document; fields
   * without one are still sealed as v1. With a context, rotation also rewrites v1 values as v2.
   */
  context?: { projection: readonly string[]; of: (doc: Record<string, unknown>, field: string) => string };
}

/**
 * Every sealed field of the bot. docs/data-inventory.md marks the same fields `sealed`; the
 * inventory test checks the two agree, so a new sealed field cannot be missed by rotation.
 */
export const SEALED_FIELDS: readonly SealedFields[] = [
  // Personal data is bound to the document's natural key, not its _id (docs/security.md "Data at rest and in transit").
  {
    collection: 'customers',
    fields: ['nameEnc', 'unionidEnc', 'birthdayEnc', 'dmsNotesEnc'],
    context: {
      projection: ['corpId', 'externalUserId'],
      of: (doc, field) =>
        customerCtx(
          { corpId: String(doc.corpId), externalUserId: String(doc.externalUserId) },
          field as CustomerSealedField,
        ),
    },
  },
  {
    collection: 'relationships',
    fields: ['remarkEnc', 'descriptionEnc', 'noteEnc'],
    arrays: ['remarkMobilesEnc'],
    context: {
      projection: ['corpId', 'externalUserId', 'userid'],
      of: (doc, field) =>
        relationshipCtx(
          { corpId: String(doc.corpId), externalUserId: String(doc.externalUserId), userid: String(doc.userid) },
          field as RelationshipSealedField,
        ),
    },
  },
  {
    collection: 'leads',
    fields: ['nameEnc', 'mobileEnc'],
    context: {
      projection: ['corpId'],
      of: (doc, field) => leadCtx({ corpId: String(doc.corpId), leadId: String(doc._id) }, field as LeadSealedField),
    },
  },
  {
    collection: 'corps',
    fields: [
      'secretSealed',
      'callbackTokenSealed',
      'callbackAesKeySealed',
      'contactSyncTokenSealed',
      'contactSyncAesKeySealed',
    ],
    context: { projection: ['corpId'], of: (doc, field) => corpSecretContext(String(doc.corpId), field) },
  },
];

/** The context of a corp secret: collection, field and the corp id (the document's key). */
export function corpSecretContext(corpId: string, field: string): string {
  return sealContext('corps', field, corpId);
}

export interface RotationProgress {
  collection: string;
  scanned: number;
  rotated: number;
  /** Documents changed by the running bot between read and write; the next run takes them. */
  conflicts: number;
  done: boolean;
}

export interface RotationOptions {
  cipher: DataCipher;
  /** Checkpoints (last _id per collection and active key) so an interrupted run resumes. */
  redis?: Redis;
  prefix?: string;
  batchSize?: number;
  dryRun?: boolean;
  /** Ignore a stored checkpoint and scan from the start. */
  restart?: boolean;
  onProgress?: (p: RotationProgress) => void;
  /** Test hook: stop after this many batches (simulates an interrupted run). */
  maxBatches?: number;
}

export const rotationCheckpointKey = (prefix: string, activeId: string, collection: string): string =>
  `${prefix}:rotate-keys:${activeId}:${collection}`;

/**
 * Re-encrypts every sealed value written with another key id under the active one, without
 * downtime (docs/architecture.md §7): batched by `_id`, each document written with a compare-and-set on the
 * old values (a concurrent write by the running bot wins; it already used the active key), and
 * checkpointed so a rerun resumes. Idempotent: values already under the active key are skipped.
 * Old key ids must stay in DATA_KEYS until `countStale` reports zero.
 */
export async function rotateKeys(opts: RotationOptions): Promise<RotationProgress[]> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('MongoDB is not connected');
  const batchSize = opts.batchSize ?? 200;
  const results: RotationProgress[] = [];
  let batches = 0;
  for (const spec of SEALED_FIELDS) {
    const progress: RotationProgress = {
      collection: spec.collection,
      scanned: 0,
      rotated: 0,
      conflicts: 0,
      done: false,
    };
    const key = opts.redis
      ? rotationCheckpointKey(opts.prefix ?? 'scrm', opts.cipher.activeKeyId, spec.collection)
      : undefined;
    const saved = key && !opts.restart ? await opts.redis?.get(key) : null;
    let after = saved && Types.ObjectId.isValid(saved) ? new Types.ObjectId(saved) : undefined;
    const collection = db.collection(spec.collection);
    for (;;) {
      if (opts.maxBatches !== undefined && batches >= opts.maxBatches) {
        results.push(progress);
        return results;
      }
      const docs = await collection
        .find(after ? { _id: { $gt: after } } : {}, { projection: projectionOf(spec) })
        .sort({ _id: 1 })
        .limit(batchSize)
        .toArray();
      batches++;
      for (const doc of docs) {
        progress.scanned++;
        const filter: Record<string, unknown> = { _id: doc._id };
        const set: Record<string, unknown> = {};
        const stale = (v: string) => opts.cipher.needsRotation(v, spec.context !== undefined);
        const reseal = (v: string, f: string) => {
          const context = spec.context?.of(doc, f);
          return opts.cipher.encrypt(opts.cipher.decrypt(v, context), context);
        };
        for (const f of spec.fields) {
          const v = doc[f];
          if (typeof v === 'string' && v && stale(v)) {
            filter[f] = v;
            set[f] = reseal(v, f);
          }
        }
        for (const f of spec.arrays ?? []) {
          const v = doc[f];
          if (Array.isArray(v) && v.some((x) => typeof x === 'string' && stale(x))) {
            filter[f] = v;
            set[f] = v.map((x: unknown) => (typeof x === 'string' && stale(x) ? reseal(x, f) : x));
          }
        }
        if (Object.keys(set).length === 0) continue;
        if (opts.dryRun) {
          progress.rotated++;
          continue;
        }
        const r = await collection.updateOne(filter, { $set: set });
        if (r.modifiedCount > 0) progress.rotated++;
        else progress.conflicts++;
      }
      const last = docs[docs.length - 1];
      if (last) {
        after = last._id as Types.ObjectId;
        if (key && !opts.dryRun) await opts.redis?.set(key, String(after), 'EX', 30 * 86_400);
      }
      opts.onProgress?.({ ...progress });
      if (docs.length < batchSize) break;
    }
    progress.done = true;
    if (key && !opts.dryRun) await opts.redis?.del(key);
    results.push(progress);
  }
  return results;
}

/** How many sealed values are still under another key id, per collection and key id. */
export async function countStale(cipher: DataCipher): Promise<Record<string, Record<string, number>>> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('MongoDB is not connected');
  const out: Record<string, Record<string, number>> = {};
  for (const spec of SEALED_FIELDS) {
    const all = [...spec.fields, ...(spec.arrays ?? [])];
    const counts: Record<string, number> = {};
    for await (const doc of db.collection(spec.collection).find({}, { projection: projectionOf(spec) })) {
      for (const f of all) {
        const values = Array.isArray(doc[f]) ? (doc[f] as unknown[]) : [doc[f]];
        for (const v of values) {
          if (typeof v !== 'string' || !v || !cipher.needsRotation(v, spec.context !== undefined)) continue;
          const id =
            cipher.keyIdOf(v) === cipher.activeKeyId
              ? `${cipher.activeKeyId} (v1, no context)`
              : (cipher.keyIdOf(v) ?? 'unknown');
          counts[id] = (counts[id] ?? 0) + 1;
        }
      }
    }
    out[spec.collection] = counts;
  }
  return out;
}

function projectionOf(spec: SealedFields): Record<string, 1> {
  return Object.fromEntries(
    [...spec.fields, ...(spec.arrays ?? []), ...(spec.context?.projection ?? [])].map((f) => [f, 1 as const]),
  );
}
