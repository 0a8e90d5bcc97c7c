import type { LookupHasher } from '../../infra/data-crypto.js';
import { ErasedContactModel } from './erased-contact.model.js';

/** Remembers that a contact was erased (a keyed hash only), so nothing collects them again. */
export async function suppressContact(
  hasher: LookupHasher,
  corpId: string,
  externalUserId: string,
  at: Date,
): Promise<void> {
  await ErasedContactModel.updateOne(
    { corpId, contactHash: hasher.hash('token', `contact:${externalUserId}`) },
    { $set: { erasedAt: at } },
    { upsert: true },
  );
}

/**
 * Whether the bot must not store this contact: erased, and not added again since. An add event
 * newer than the erasure (the customer chose to connect again) lifts the suppression.
 */
export async function isSuppressed(
  hasher: LookupHasher,
  corpId: string,
  externalUserId: string,
  addedAt?: Date,
): Promise<boolean> {
  const contactHash = hasher.hash('token', `contact:${externalUserId}`);
  const entry = await ErasedContactModel.findOne({ corpId, contactHash }, { erasedAt: 1 }).lean();
  if (!entry) return false;
  if (addedAt && addedAt.getTime() > entry.erasedAt.getTime()) {
    await ErasedContactModel.deleteOne({ _id: entry._id });
    return false;
  }
  return true;
}
